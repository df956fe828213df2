#include "plan.h"

#include <algorithm>
#include <set>

#include "module_arch.h"
#include "name_resolution.h"
#include "sysfs_parse.h"

namespace xa {
namespace {

std::vector<std::string> transitive_deps(const ModuleIndex& index, const std::string& module) {
    std::vector<std::string> out;
    std::set<std::string> seen{module};
    std::vector<std::string> todo{module};
    while (!todo.empty()) {
        const std::string m = todo.back();
        todo.pop_back();
        for (std::string& d : index.dependencies(m)) {
            if (seen.insert(d).second) {
                out.push_back(d);
                todo.push_back(std::move(d));
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// E is denied by D. MODULE (its resolved name, "" when unresolved) may be loaded all the
// same: by an initramfs made before the deny rule, whose copy of the policy allowed it.
void mark_denied(PlanEntry& e, const std::string& module, const DenyRule& d,
                 const std::string& prefix, const ModuleIndex& index) {
    e.state = ModuleState::denied;
    e.reason = prefix + "denied by " + d.origin;
    if (!module.empty() && index.state(module) == ModuleState::loaded) {
        e.name = module;
        e.loaded_although_denied = true;
        e.reason +=
            "; loaded all the same (by an initramfs older than the policy? run "
            "update-initramfs -u)";
    }
}

// "not in TREE", or the index's more precise cause (a file listed but gone, an unusable
// index).
std::string missing_reason(const ModuleIndex& index, const std::string& module) {
    std::string cause = index.missing_cause(module);
    return cause.empty() ? "not in " + index.tree() : cause;
}

}  // namespace

const char* action_name(Action a) { return a == Action::load ? "load" : "skip"; }

Plan make_plan(Role role, const Policy& policy, const ModuleIndex& index) {
    Plan plan;
    plan.role = role;
    plan.kernel = index.kernel();
    plan.tree = index.tree();
    if (policy.files.empty()) {
        plan.no_policy = true;
        plan.warnings.emplace_back("no policy file found: nothing to load");
    }
    std::set<std::string> planned;  // resolved names already in the plan
    // Deny rules resolved like the requests: "deny netbk" denies xen_netback.
    const DeniedModules denied(policy, &index);
    // REQUIRED_BY: why a request is required although the policy says optional (or does
    // not name it): "pciback-hide (FILE:LINE)".
    auto plan_one = [&](const ModuleRequest& req, const std::string& required_by) {
        PlanEntry e;
        e.requested = req.name;
        e.name = normalize_module_name(req.name);
        e.optional = req.optional;
        e.origin = req.origin;
        if (const DenyRule* d = policy.denied(req.name)) {
            const std::vector<std::string> mods = resolve_policy_name(index, req.name).modules;
            mark_denied(e, mods.empty() ? std::string() : mods.front(), *d, "", index);
            plan.modules.push_back(std::move(e));
            return;
        }
        const NameResolution res = resolve_policy_name(index, req.name);
        const std::vector<std::string>& names = res.modules;
        std::string via;
        const std::optional<std::string>& legacy = res.legacy;
        if (names.empty() && legacy && legacy->empty()) {
            e.state = ModuleState::missing;
            e.reason = "legacy name with no equivalent in mainline Linux";
            e.warn = true;
            plan.modules.push_back(std::move(e));
            return;
        }
        if (res.via_legacy) via = "legacy name for " + *legacy;
        if (names.empty()) {
            e.state = ModuleState::missing;
            e.reason = missing_reason(index, e.name);
            // A legacy name resolving to nothing is a warning; so is a missing optional one,
            // unless this architecture cannot build it (module_arch.h).
            const auto only = module_only_on(e.name);
            const bool other_arch = only && *only != build_arch_family();
            if (other_arch) e.reason += " (built for " + std::string(*only) + " only)";
            e.warn = !(other_arch && e.optional);
            e.failure = !e.optional && !legacy;
            plan.modules.push_back(std::move(e));
            return;
        }
        if (via.empty() && normalize_module_name(req.name) != names.front())
            via = "alias of " + names.front();
        // An alias may match several modules; the first is libkmod's best match.
        e.name = names.front();
        const std::string prefix = via.empty() ? "" : via + "; ";
        if (!via.empty()) e.warn = legacy.has_value();
        if (const DenyRule* d = denied.find(e.name)) {
            mark_denied(e, e.name, *d, prefix, index);
        } else if (!planned.insert(e.name).second) {
            e.state = index.state(e.name);
            e.reason = prefix + "already planned under another name";
        } else {
            e.state = index.state(e.name);
            switch (e.state) {
                case ModuleState::builtin:
                    e.reason = prefix + "built into the kernel";
                    break;
                case ModuleState::loaded:
                    e.reason = prefix + "already loaded";
                    break;
                case ModuleState::loadable:
                    if (index.blacklisted(e.name)) {
                        e.state = ModuleState::blacklisted;
                        e.reason = prefix + "blacklisted in modprobe.d";
                        e.warn = true;
                        break;
                    }
                    e.action = Action::load;
                    e.reason = prefix + (!required_by.empty()
                                             ? "required by " + required_by
                                             : (e.optional ? "optional for " : "required for ") +
                                                   std::string(role_name(role)));
                    e.deps = transitive_deps(index, e.name);
                    break;
                default:
                    e.state = ModuleState::missing;
                    e.reason = prefix + missing_reason(index, e.name);
                    e.warn = true;
                    e.failure = !e.optional;
                    break;
            }
        }
        plan.modules.push_back(std::move(e));
    };
    // pciback-hide in dom0 needs xen-pciback (pci_hide.h): required, even where the role's
    // set has it optional, and planned when the role's set lacks it.
    const bool hide = role == Role::dom0 && !policy.pciback_hide.empty();
    const std::string hide_by =
        hide ? "pciback-hide (" + policy.pciback_hide.front().origin + ")" : std::string();
    bool hide_planned = false;
    for (const ModuleRequest& req : policy.for_role(role)) {
        if (hide && !hide_planned) {
            const std::vector<std::string> mods = resolve_policy_name(index, req.name).modules;
            if (normalize_module_name(req.name) == "xen_pciback" ||
                (!mods.empty() && mods.front() == "xen_pciback")) {
                hide_planned = true;
                ModuleRequest forced = req;
                forced.optional = false;
                plan_one(forced, req.optional ? hide_by : std::string());
                continue;
            }
        }
        plan_one(req, {});
    }
    if (hide && !hide_planned)
        plan_one({"xen-pciback", false, policy.pciback_hide.front().origin}, hide_by);
    for (const PlanEntry& e : plan.modules)
        if (hide && e.name == "xen_pciback" && e.state == ModuleState::denied)
            plan.warnings.push_back(hide_by + ": xen-pciback is " + e.reason +
                                    ": no device can be hidden");
    return plan;
}

}  // namespace xa
