#include "policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "sysfs_parse.h"
#include "sysroot.h"
#include "text_escape.h"
#include "text_lines.h"

namespace xa {
namespace {

constexpr std::size_t kPolicyFileMax = std::size_t{1024} * 1024;
// File names in messages are escaped (a name with a newline must not forge a log line),
// but not shortened below PATH_MAX.
constexpr std::size_t kPathShown = 4096;

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

[[noreturn]] void fail(const std::string& file, std::size_t line, std::string_view what,
                       std::string_view value) {
    throw ConfigError(escape_text(file, kPathShown) + ":" + std::to_string(line) + ": " +
                      std::string(what) + ": " + quote_text(value));
}

void add_request(Policy& p, Role role, std::string_view name, bool optional, std::string origin) {
    auto& list = p.requests[static_cast<std::size_t>(role)];
    auto& index = p.request_index[static_cast<std::size_t>(role)];
    const auto [it, fresh] = index.try_emplace(normalize_module_name(name), list.size());
    if (!fresh) {
        // Named twice: "require" wins over "optional".
        ModuleRequest& r = list[it->second];
        r.optional = r.optional && optional;
        return;
    }
    list.push_back({std::string(name), optional, std::move(origin)});
}

void add_deny(Policy& p, std::string_view name, const std::string& origin) {
    if (p.deny_index.try_emplace(normalize_module_name(name), p.deny.size()).second)
        p.deny.push_back({std::string(name), origin});
}

}  // namespace

const DenyRule* Policy::denied(std::string_view name) const {
    const std::string norm = normalize_module_name(name);
    if (deny_index.size() == deny.size()) {
        const auto it = deny_index.find(norm);
        return it == deny_index.end() ? nullptr : &deny[it->second];
    }
    // DENY filled by hand, not by parse_policy.
    for (const DenyRule& d : deny)
        if (normalize_module_name(d.name) == norm) return &d;
    return nullptr;
}

void parse_policy(std::string_view text, const std::string& file, Policy& policy) {
    Lines lines(text);
    while (const auto next = lines.next()) {
        const std::size_t lineno = lines.number();
        std::string_view line = *next;
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
                if (!is_valid_request_name(words[i]))
                    fail(file, lineno, "invalid module name", words[i]);
                add_deny(policy, words[i], origin);
            }
        } else if (directive == "pciback-hide") {
            if (words.size() < 2) fail(file, lineno, "pciback-hide: no device selector", line);
            for (std::size_t i = 1; i < words.size(); ++i) {
                const auto sel = parse_pci_selector(words[i]);
                if (!sel)
                    fail(file, lineno,
                         "pciback-hide: not a PCI address, vendor:device id or class=0xCCSS[PP]",
                         words[i]);
                if (policy.pciback_hide_index.try_emplace(sel->text(), policy.pciback_hide.size())
                        .second)
                    policy.pciback_hide.push_back({*sel, origin});
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
            fail(file, lineno,
                 "unknown directive (require, optional, deny, driver-domain, pciback-hide)",
                 directive);
        }
    }
}

PolicyDirs default_policy_dirs() {
    return {{"/etc/xen-autoload", "/run/xen-autoload", XA_VENDOR_CONFDIR}, {}};
}

std::vector<PolicyFile> discover_policy_files(const SysRoot& root, const PolicyDirs& dirs) {
    std::map<std::string, PolicyFile> chosen;  // by name: sorted, first (highest) dir wins
    const SysRoot host;                        // --vendor-dir is a host path
    for (std::size_t i = 0; i < dirs.dirs.size(); ++i) {
        const bool vendor = i + 1 == dirs.dirs.size();
        const bool in_root = !(vendor && !dirs.vendor_override.empty());
        const SysRoot& where = in_root ? root : host;
        const std::string rel = in_root ? dirs.dirs[i] : dirs.vendor_override;
        const std::string dir = in_root ? root.path(rel) : rel;
        int err = 0;
        const std::vector<std::string> names = where.list_dir(rel, &err);
        if (err != 0 && err != ENOENT)
            throw ConfigError(escape_text(dir, kPathShown) +
                              ":0: cannot read the policy directory: '" + errno_text(err) + "'");
        for (const std::string& name : names) {
            if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
            if (chosen.count(name)) continue;  // masked by a higher directory
            std::string path = dir;
            path += '/';
            path += name;
            std::string file_rel = rel;
            file_rel += '/';
            file_rel += name;
            PolicyFile f{name, std::move(path), false, std::move(file_rel), in_root};
            struct stat st {};
            const auto link = where.read_link(f.rel);
            if ((link && *link == "/dev/null") ||
                (where.stat(f.rel, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0))
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
    const SysRoot host;
    for (const PolicyFile& f : discover_policy_files(root, dirs)) {
        if (f.disabled) {
            policy.disabled.push_back(f.path);
            continue;
        }
        const ReadResult r = (f.in_root ? root : host).read(f.rel, kPolicyFileMax);
        if (!r.ok())
            throw ConfigError(escape_text(f.path, kPathShown) + ":0: cannot read: '" + r.why() +
                              "'");
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
