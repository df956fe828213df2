#include "report.h"

#include <nlohmann/json.hpp>

namespace xa {

using json = nlohmann::ordered_json;

namespace {

json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// plan --json "pci_hide": the rules, the devices they match and their drivers now.
json pci_hide_plan_json(const PciHideSurvey& h) {
    json rules = json::array();
    for (const PciHideRuleMatches& r : h.rules)
        rules.push_back({{"selector", r.selector}, {"origin", r.origin}, {"devices", r.addresses}});
    json devices = json::array();
    for (const PciHideMatch& m : h.devices)
        devices.push_back({{"address", m.address},
                           {"selector", m.selector},
                           {"origin", m.origin},
                           {"driver", optional_text(m.driver)}});
    return {{"applies", h.applies},
            {"reason", h.reason},
            {"rules", std::move(rules)},
            {"devices", std::move(devices)},
            {"notes", h.notes}};
}

std::string pci_hide_origin(const std::string& selector, const std::string& origin) {
    return "pciback-hide " + selector + " (" + origin + ")";
}

std::string pci_hide_plan_text(const PciHideSurvey& h) {
    std::string s;
    if (!h.reason.empty()) s += "pciback-hide: " + h.reason + "\n";
    if (!h.applies) return s;
    for (const std::string& n : h.notes) s += "note: " + n + "\n";
    for (const PciHideMatch& m : h.devices)
        s += std::string(m.hidden() ? "skip" : "hide") + "  " + m.address + "  [" +
             m.driver.value_or("no driver") + "] " + pci_hide_origin(m.selector, m.origin) +
             (m.hidden() ? ": already bound to pciback" : "") + "\n";
    return s;
}

// status --json "deny_list": the file, whether it blacklists exactly the denied modules,
// else what is wrong ("missing", "unreadable", "differs"), the status line saying so, the
// denied modules it does not blacklist and the ones it blacklists that no rule denies.
json deny_list_json(const DenyListCheck& c) {
    const char* problem = deny_list_problem_name(c.problem);
    const std::string message = deny_list_problem_text(c);
    return {{"path", c.path},
            {"in_place", c.in_place()},
            {"problem", problem ? json(problem) : json(nullptr)},
            {"message", message.empty() ? json(nullptr) : json(message)},
            {"uncovered", c.uncovered},
            {"stale", c.stale}};
}

}  // namespace

json platform_json(const Platform& p, bool driver_domain) {
    json j;
    j["hypervisor"] = p.hypervisor == Hypervisor::xen ? "xen" : "none";
    j["role"] = role_name(p.role);
    if (const char* g = guest_type_name(p.guest_type))
        j["guest_type"] = g;
    else
        j["guest_type"] = nullptr;
    j["xen_version"] = p.xen_version ? json(*p.xen_version) : json(nullptr);
    j["driver_domain"] = driver_domain;
    j["kernel"] = p.kernel ? json(*p.kernel) : json(nullptr);
    json ev = json::array();
    for (const Evidence& e : p.evidence) ev.push_back({{"source", e.source}, {"fact", e.fact}});
    j["evidence"] = std::move(ev);
    return j;
}

std::string platform_text(const Platform& p, bool driver_domain) {
    std::string s;
    s += "hypervisor:    " + std::string(p.hypervisor == Hypervisor::xen ? "xen" : "none") + "\n";
    s += "role:          " + std::string(role_name(p.role)) + "\n";
    const char* g = guest_type_name(p.guest_type);
    s += "guest type:    " + std::string(g ? g : "unknown") + "\n";
    s += "xen version:   " + p.xen_version.value_or("unknown") + "\n";
    s += "driver domain: " + std::string(driver_domain ? "yes" : "no") + "\n";
    s += "kernel:        " + p.kernel.value_or("unknown") + "\n";
    s += "evidence:\n";
    for (const Evidence& e : p.evidence) s += "  " + e.source + ": " + e.fact + "\n";
    return s;
}

json plan_json(const Plan& plan) {
    json mods = json::array();
    for (const PlanEntry& e : plan.modules) {
        mods.push_back({{"requested", e.requested},
                        {"name", e.name},
                        {"state", module_state_name(e.state)},
                        {"action", action_name(e.action)},
                        {"reason", e.reason},
                        {"optional", e.optional},
                        {"origin", e.origin},
                        {"deps", e.deps}});
    }
    return {{"role", role_name(plan.role)},
            {"kernel", plan.kernel},
            {"tree", plan.tree},
            {"warnings", plan.warnings},
            {"modules", std::move(mods)},
            {"pci_hide", pci_hide_plan_json(plan.pci_hide)}};
}

std::string plan_text(const Plan& plan) {
    std::string s = "role " + std::string(role_name(plan.role)) + ", kernel " + plan.kernel + "\n";
    for (const std::string& w : plan.warnings) s += "warning: " + w + "\n";
    if (plan.modules.empty())
        s += "nothing to load for role " + std::string(role_name(plan.role)) + "\n";
    for (const PlanEntry& e : plan.modules) {
        std::string name = e.requested;
        if (e.name != e.requested) name += " -> " + e.name;
        s += std::string(action_name(e.action)) + "  " + name + "  [" + module_state_name(e.state) +
             (e.optional ? ", optional" : "") + "] " + e.reason + "\n";
    }
    s += pci_hide_plan_text(plan.pci_hide);
    return s;
}

json load_json(const LoadReport& report) {
    json mods = json::array();
    for (const LoadResult& r : report.results) {
        json m = {{"requested", r.requested}, {"name", r.name},
                  {"optional", r.optional},   {"result", load_status_name(r.status)},
                  {"message", r.message},     {"ms", r.milliseconds}};
        if (r.err != 0) m["errno"] = r.err;
        mods.push_back(std::move(m));
    }
    json hide = json::array();
    for (const PciHideResult& r : report.pci_hide.results) {
        json d = {{"address", r.address},
                  {"selector", r.selector},
                  {"origin", r.origin},
                  {"driver_before", optional_text(r.driver_before)},
                  {"result", pci_hide_status_name(r.status)},
                  {"message", r.message}};
        if (r.err != 0) d["errno"] = r.err;
        hide.push_back(std::move(d));
    }
    return {{"role", role_name(report.role)},
            {"kernel", report.kernel},
            {"ok", report.ok()},
            {"modules", std::move(mods)},
            {"pci_hide", std::move(hide)},
            {"pci_hide_notes", report.pci_hide.notes}};
}

std::string load_text(const LoadReport& report) {
    std::string s;
    for (const LoadResult& r : report.results) s += r.message + "\n";
    for (const std::string& n : report.pci_hide.notes) s += n + "\n";
    for (const PciHideResult& r : report.pci_hide.results) s += r.message + "\n";
    return s;
}

bool status_complete(const Plan& plan) {
    if (plan.no_policy) return false;
    if (!plan.pci_hide.complete()) return false;
    if (plan.deny_list && !plan.deny_list->in_place()) return false;
    for (const PlanEntry& e : plan.modules) {
        if (e.loaded_although_denied) return false;
        const bool present = is_present(e.state);
        if (!present && !e.optional && e.state != ModuleState::denied &&
            e.state != ModuleState::blacklisted && (e.failure || e.action == Action::load))
            return false;
    }
    return true;
}

json status_json(const Plan& plan) {
    json mods = json::array();
    for (const PlanEntry& e : plan.modules) {
        const bool present = is_present(e.state) || e.loaded_although_denied;
        mods.push_back({{"requested", e.requested},
                        {"name", e.name},
                        {"state", module_state_name(e.state)},
                        {"present", present},
                        {"optional", e.optional},
                        {"reason", e.reason}});
    }
    // Per device a rule matched: the driver it is bound to now; hidden = bound to pciback.
    json hide = json::array();
    for (const PciHideMatch& m : plan.pci_hide.devices)
        hide.push_back({{"address", m.address},
                        {"selector", m.selector},
                        {"origin", m.origin},
                        {"driver", optional_text(m.driver)},
                        {"hidden", m.hidden()}});
    return {{"role", role_name(plan.role)},
            {"kernel", plan.kernel},
            {"complete", status_complete(plan)},
            {"warnings", plan.warnings},
            {"modules", std::move(mods)},
            {"deny_list", plan.deny_list ? deny_list_json(*plan.deny_list) : json(nullptr)},
            {"pci_hide",
             {{"applies", plan.pci_hide.applies},
              {"reason", plan.pci_hide.reason},
              {"devices", std::move(hide)}}}};
}

std::string status_text(const Plan& plan) {
    std::string s = "role " + std::string(role_name(plan.role)) + ", kernel " + plan.kernel + ": " +
                    (status_complete(plan) ? "complete" : "INCOMPLETE") + "\n";
    for (const std::string& w : plan.warnings) s += "warning: " + w + "\n";
    for (const PlanEntry& e : plan.modules) {
        const bool present = is_present(e.state);
        s += std::string(e.loaded_although_denied
                             ? "LOADED   "
                             : (present ? "ok       " : (e.optional ? "absent   " : "MISSING  "))) +
             e.requested + (e.name != e.requested ? " (" + e.name + ")" : "") + "  [" +
             module_state_name(e.state) + "]" +
             // Why it is LOADED against a deny rule, or why it cannot be loaded at all.
             (e.loaded_although_denied || (!present && e.state == ModuleState::missing)
                  ? " " + e.reason
                  : std::string()) +
             "\n";
    }
    // Only when wrong: a deny list in place (or none needed) leaves the output as it was.
    if (plan.deny_list && !plan.deny_list->in_place())
        s += "deny list: " + deny_list_problem_text(*plan.deny_list) + "\n";
    if (!plan.pci_hide.reason.empty()) s += "pciback-hide: " + plan.pci_hide.reason + "\n";
    for (const PciHideMatch& m : plan.pci_hide.devices)
        s += std::string(m.hidden() ? "ok       " : "MISSING  ") + m.address + "  [" +
             m.driver.value_or("no driver") + "] " + pci_hide_origin(m.selector, m.origin) + "\n";
    return s;
}

}  // namespace xa
