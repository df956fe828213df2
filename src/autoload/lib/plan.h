// The plan: for each module the role's policy asks for, what it resolves to, its state, and
// whether to load it. A pure function of role, policy and module index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "deny_list.h"
#include "module_index.h"
#include "pci_hide.h"
#include "platform.h"
#include "policy.h"

namespace xa {

enum class Action { load, skip };
const char* action_name(Action a);

struct PlanEntry {
    std::string requested;  // as written in the policy
    std::string name;       // resolved module name (kernel spelling); = requested when unresolved
    ModuleState state = ModuleState::missing;
    Action action = Action::skip;
    std::string reason;
    bool optional = false;
    std::string origin;  // policy FILE:LINE
    // Transitive dependencies (modules.dep), for ordering the parallel loader.
    std::vector<std::string> deps;
    // A required module that cannot be made present: load/status fail for it.
    bool failure = false;
    // A note worth a warning (legacy name resolved, unresolvable legacy name, optional missing).
    bool warn = false;
    // Denied, yet loaded (state stays denied; name is the loaded module): an initramfs made
    // before the deny rule loaded it. The daemon unloads it when unused; status fails.
    bool loaded_although_denied = false;
};

struct Plan {
    Role role = Role::none;
    std::string kernel;
    std::string tree;
    std::vector<PlanEntry> modules;
    std::vector<std::string> warnings;  // plan-wide (no module tree, no policy files...)
    // No policy file at all (role none aside): nothing is required, so nothing would load;
    // status calls that incomplete rather than "complete".
    bool no_policy = false;
    // The pciback-hide rules against the PCI devices present (make_plan_for reads sysfs;
    // make_plan leaves it empty).
    PciHideSurvey pci_hide;
    // status only (check_deny_list_for): the deny list file against the policy; nullopt
    // when not checked (plan, load, daemon; or not on Xen, where no daemon writes it).
    std::optional<DenyListCheck> deny_list;
};

Plan make_plan(Role role, const Policy& policy, const ModuleIndex& index);

}  // namespace xa
