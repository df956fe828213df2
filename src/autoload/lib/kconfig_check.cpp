#include "kconfig_check.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "json_text.h"
#include "text_escape.h"

namespace xa {

namespace {

constexpr std::string_view kGreen = "\033[32m";
constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kYellow = "\033[33m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kReset = "\033[0m";

std::string paint(std::string_view text, std::string_view colour, bool on) {
    if (!on) return std::string(text);
    return std::string(colour) + std::string(text) + std::string(kReset);
}

std::string entry_label(const KconfigEntryResult& e) {
    std::string out;
    for (const auto& s : e.symbols) out += (out.empty() ? "CONFIG_" : " or CONFIG_") + s;
    return out;
}

// Text is built in std::string, not iostreams: <iostream> alone adds ~480 KiB to a binary
// that links libstdc++ statically and must stay small for initramfs images.
void entry_text(std::string& out, const KconfigEntryResult& e, bool required, bool colour) {
    out += "    " + entry_label(e) + ": ";
    if (e.satisfied_by.empty()) {
        out += paint("missing", required ? kRed : kYellow, colour) + " (" + e.why + ")";
    } else {
        out += paint(kconfig_state_name(e.state), kGreen, colour);
        if (e.symbols.size() > 1) out += " (CONFIG_" + e.satisfied_by + ")";
    }
    out += "\n";
}

void role_text(std::string& out, const KconfigRoleResult& r, bool colour) {
    if (!r.applies) {
        out += paint(r.name, kBold, colour) + " (" + r.title + "): " + r.problems.front() + "\n";
        return;
    }
    out += paint(r.name, kBold, colour) + " (" + r.title +
           "): " + (r.works ? paint("works", kGreen, colour) : paint("CANNOT WORK", kRed, colour));
    if (r.works && !r.working_roles.empty()) {
        out += " (as";
        for (const auto& w : r.working_roles) out += " " + w;
        out += ")";
    }
    out += "\n";
    // The first problems are the missing required entries (kconfig_roles.cpp), which the
    // "required:" list below shows as missing: list only the others (a role it needs).
    std::size_t shown_below = 0;
    for (const auto& e : r.required)
        if (e.satisfied_by.empty()) ++shown_below;
    for (std::size_t i = shown_below; i < r.problems.size(); ++i)
        out += "  - " + r.problems[i] + "\n";
    if (!r.required.empty()) out += "  required:\n";
    for (const auto& e : r.required) entry_text(out, e, true, colour);
    if (!r.optional.empty()) out += "  optional:\n";
    for (const auto& e : r.optional) entry_text(out, e, false, colour);
}

nlohmann::ordered_json entry_json(const KconfigEntryResult& e) {
    nlohmann::ordered_json j;
    j["symbols"] = nlohmann::ordered_json::array();
    for (const auto& s : e.symbols) j["symbols"].push_back("CONFIG_" + s);
    j["state"] = kconfig_state_name(e.state);
    j["satisfied_by"] = e.satisfied_by.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json("CONFIG_" + e.satisfied_by);
    j["why"] = e.why;
    return j;
}

}  // namespace

std::string kconfig_role_names() {
    std::string out;
    for (const auto& r : kconfig_roles()) out += (out.empty() ? "" : ", ") + std::string(r.name);
    return out;
}

bool kconfig_use_colour(bool stdout_is_tty, const char* no_color_env) {
    return stdout_is_tty && (no_color_env == nullptr || *no_color_env == '\0');
}

nlohmann::ordered_json kconfig_verdict_json(const KconfigVerdict& v, const std::string& asked) {
    nlohmann::ordered_json j;
    j["config"] = v.origin;
    j["kernel_version"] = v.kernel_version.empty() ? nlohmann::ordered_json(nullptr)
                                                   : nlohmann::ordered_json(v.kernel_version);
    j["arch"] = v.arch;
    const KconfigRoleResult* asked_role = asked.empty() ? nullptr : v.role(asked);
    j["role"] = asked.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(asked);
    // No role asked: whether the config works in at least one role.
    j["works"] = asked_role != nullptr
                     ? asked_role->works
                     : std::any_of(v.roles.begin(), v.roles.end(),
                                   [](const KconfigRoleResult& r) { return r.works; });
    j["roles"] = nlohmann::ordered_json::object();
    for (const auto& r : v.roles) {
        nlohmann::ordered_json rj;
        rj["title"] = r.title;
        rj["applies"] = r.applies;
        rj["works"] = r.works;
        rj["problems"] = r.problems;
        if (!r.needs_any_role.empty()) {
            rj["needs_any_role"] = r.needs_any_role;
            rj["working_roles"] = r.working_roles;
        }
        rj["required"] = nlohmann::ordered_json::array();
        for (const auto& e : r.required) rj["required"].push_back(entry_json(e));
        rj["optional"] = nlohmann::ordered_json::array();
        for (const auto& e : r.optional) rj["optional"].push_back(entry_json(e));
        j["roles"][r.name] = std::move(rj);
    }
    return j;
}

std::string kconfig_verdict_text(const KconfigVerdict& v, const std::string& asked, bool colour) {
    std::string out = "Kernel config: " + v.origin;
    // The version is the config file's bytes: escaped (text_escape.h), never a raw ESC.
    if (!v.kernel_version.empty())
        out += " (Linux " + escape_text(v.kernel_version) + ", " + v.arch + ")";
    else
        out += " (" + v.arch + ")";
    out += "\n";
    for (const auto& r : v.roles) {
        if (!asked.empty() && r.name != asked) continue;
        out += "\n";
        role_text(out, r, colour);
    }
    return out;
}

CheckKernelResult check_kernel(const CheckKernelOptions& options) {
    if (!options.role.empty() && find_kconfig_role(options.role) == nullptr)
        throw ConfigError("unknown kernel role " + quote_text(options.role) + " (" +
                          kconfig_role_names() + ")");
    const ConfigText text =
        options.config.empty() ? read_running_config() : read_config_file(options.config);
    const KernelConfig config = KernelConfig::parse(text.text, text.origin);
    const KconfigVerdict verdict = check_kernel_config(config, text.origin);
    CheckKernelResult result;
    if (options.json)
        result.report = json_text(kconfig_verdict_json(verdict, options.role)) + "\n";
    else
        result.report = kconfig_verdict_text(verdict, options.role, options.colour);
    const bool works = options.role.empty() || verdict.role(options.role)->works;
    result.outcome = works ? Outcome::ok : Outcome::failed;
    return result;
}

}  // namespace xa
