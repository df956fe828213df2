// Which kernel config symbols each Xen role needs, and the verdict for one config.
//
// Roles (the names --role accepts): native, dom0, domU (works if at least one of the
// three guest types works), domU-pv, domU-pvh, domU-hvm, driver-domain. A role "works"
// when every required entry is built in or a module; optional entries only warn. An entry
// may list alternatives (any one of them satisfies it). Symbol names follow Linux 6.1
// (XEN_PVHVM_GUEST, XEN_PVH, XEN_DOM0 for a PV dom0).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kconfig_config.h"

namespace xa {

struct KconfigRequirement {
    std::vector<std::string_view> any_of;  // symbols without CONFIG_; one suffices
    std::string_view why;
};

struct KconfigRoleSpec {
    std::string_view name;   // --role name
    std::string_view title;  // human description
    std::vector<KconfigRequirement> required;
    std::vector<KconfigRequirement> optional;
    // Roles of which at least one must work too (domU: one guest type; driver-domain:
    // domU).
    std::vector<std::string_view> needs_any_role;
};

// Every role, in the order they are reported.
const std::vector<KconfigRoleSpec>& kconfig_roles();
// Nullptr when NAME is not a role.
const KconfigRoleSpec* find_kconfig_role(std::string_view name);

struct KconfigEntryResult {
    std::vector<std::string> symbols;  // the alternatives, without CONFIG_
    std::string satisfied_by;          // the alternative found; empty when missing
    KconfigState state = KconfigState::missing;
    std::string why;
};

struct KconfigRoleResult {
    std::string name;
    std::string title;
    bool works = false;
    std::vector<KconfigEntryResult> required;
    std::vector<KconfigEntryResult> optional;
    std::vector<std::string> needs_any_role;  // as in the spec
    std::vector<std::string> working_roles;   // those of needs_any_role that work
    // One line per reason the role cannot work (empty when it works).
    std::vector<std::string> problems;
};

struct KconfigVerdict {
    std::string origin;          // the config file read
    std::string kernel_version;  // from the config's header; may be empty
    std::vector<KconfigRoleResult> roles;

    const KconfigRoleResult* role(std::string_view name) const;
};

KconfigVerdict check_kernel_config(const KernelConfig& config, const std::string& origin);

}  // namespace xa
