#include "policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "sysfs_parse.h"
#include "sysroot.h"

namespace xa {
namespace {

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
        if (j > i) words.push_back(line.substr(i, j - i));
        i = j;
    }
    return words;
}

// Printable form of a value for the one-line error message.
std::string shown(std::string_view v) {
    std::string out;
    for (const char c : v.substr(0, 60)) out += (c >= ' ' && c <= '~') ? c : '?';
    if (v.size() > 60) out += "...";
    return out;
}

[[noreturn]] void fail(const std::string& file, std::size_t line, std::string_view what,
                       std::string_view value) {
    throw ConfigError(file + ":" + std::to_string(line) + ": " + std::string(what) + ": '" +
                      shown(value) + "'");
}

void add_request(Policy& p, Role role, std::string_view name, bool optional, std::string origin) {
    auto& list = p.requests[static_cast<std::size_t>(role)];
    const std::string norm = normalize_module_name(name);
    for (ModuleRequest& r : list) {
        if (normalize_module_name(r.name) == norm) {
            // Named twice: "require" wins over "optional".
            r.optional = r.optional && optional;
            return;
        }
    }
    list.push_back({std::string(name), optional, std::move(origin)});
}

bool is_dev_null_link(const std::string& path) {
    char target[64];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) return false;
    target[n] = '\0';
    return std::string_view(target) == "/dev/null";
}

}  // namespace

const DenyRule* Policy::denied(std::string_view name) const {
    const std::string norm = normalize_module_name(name);
    for (const DenyRule& d : deny)
        if (normalize_module_name(d.name) == norm) return &d;
    return nullptr;
}

void parse_policy(std::string_view text, const std::string& file, Policy& policy) {
    std::size_t lineno = 0;
    while (!text.empty()) {
        ++lineno;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        for (const char c : line)
            if ((c < ' ' && c != '\t') || c == 0x7f)
                fail(file, lineno, "control character in line", line);
        const auto words = split_words(line);
        if (words.empty()) continue;
        const std::string origin = file + ":" + std::to_string(lineno);
        const std::string_view directive = words[0];
        if (directive == "require" || directive == "optional") {
            if (words.size() < 2)
                fail(file, lineno, "missing role after " + std::string(directive), line);
            const auto role = parse_role(words[1]);
            if (!role || *role == Role::none)
                fail(file, lineno, "unknown role (dom0, domU or driver-domain)", words[1]);
            if (words.size() < 3) fail(file, lineno, "no module named", line);
            for (std::size_t i = 2; i < words.size(); ++i) {
                if (!is_valid_request_name(words[i]))
                    fail(file, lineno, "invalid module name", words[i]);
                add_request(policy, *role, words[i], directive == "optional", origin);
            }
        } else if (directive == "deny") {
            if (words.size() < 2) fail(file, lineno, "no module named", line);
            for (std::size_t i = 1; i < words.size(); ++i) {
                if (!is_valid_module_name(words[i]))
                    fail(file, lineno, "invalid module name", words[i]);
                if (!policy.denied(words[i]))
                    policy.deny.push_back({std::string(words[i]), origin});
            }
        } else if (directive == "driver-domain") {
            if (words.size() != 2)
                fail(file, lineno, "driver-domain takes one value (yes or no)", line);
            if (words[1] == "yes") {
                policy.driver_domain = true;
            } else if (words[1] == "no") {
                policy.driver_domain = false;
            } else {
                fail(file, lineno, "driver-domain value must be yes or no", words[1]);
            }
        } else {
            fail(file, lineno, "unknown directive (require, optional, deny, driver-domain)",
                 directive);
        }
    }
}

PolicyDirs default_policy_dirs() {
    return {{"/etc/xen-autoload", "/run/xen-autoload", XA_VENDOR_CONFDIR}, {}};
}

std::vector<PolicyFile> discover_policy_files(const SysRoot& root, const PolicyDirs& dirs) {
    std::map<std::string, PolicyFile> chosen;  // by name: sorted, first (highest) dir wins
    for (std::size_t i = 0; i < dirs.dirs.size(); ++i) {
        const bool vendor = i + 1 == dirs.dirs.size();
        const std::string dir = vendor && !dirs.vendor_override.empty() ? dirs.vendor_override
                                                                        : root.path(dirs.dirs[i]);
        const SysRoot abs;  // DIR is already a full path
        for (const std::string& name : abs.list_dir(dir)) {
            if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
            if (chosen.count(name)) continue;  // masked by a higher directory
            std::string path = dir;
            path += '/';
            path += name;
            PolicyFile f{name, std::move(path), false};
            struct stat st {};
            if (is_dev_null_link(f.path) ||
                (::stat(f.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0))
                f.disabled = true;
            chosen.emplace(name, std::move(f));
        }
    }
    std::vector<PolicyFile> files;
    files.reserve(chosen.size());
    for (auto& [name, f] : chosen) files.push_back(std::move(f));
    return files;
}

Policy load_policy(const SysRoot& root, const PolicyDirs& dirs) {
    Policy policy;
    const SysRoot abs;
    for (const PolicyFile& f : discover_policy_files(root, dirs)) {
        if (f.disabled) {
            policy.disabled.push_back(f.path);
            continue;
        }
        const ReadResult r = abs.read(f.path, std::size_t{1024} * 1024);
        if (!r.ok()) throw ConfigError(f.path + ":0: cannot read: '" + errno_text(r.error) + "'");
        parse_policy(r.data, f.path, policy);
        policy.files.push_back(f.path);
    }
    return policy;
}

Role effective_role(Role detected, const Policy& policy) {
    if (detected == Role::domU && policy.driver_domain) return Role::driver_domain;
    return detected;
}

}  // namespace xa
