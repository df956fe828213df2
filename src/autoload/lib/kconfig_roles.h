// Which kernel config symbols each Xen role needs, and the verdict for one config.
//
// Roles (the names --role accepts): native, dom0, domU (works if at least one guest type
// works), domU-pv, domU-pvh, domU-hvm (x86), domU-arm (arm64), driver-domain. A role
// "works" when every required entry is built in or a module; optional entries only warn. An
// entry may list alternatives (any one of them satisfies it). Symbol names follow Linux 6.1
// (XEN_PVHVM_GUEST, XEN_PVH, XEN_DOM0 for a PV dom0).
// The config's architecture (kconfig_arch) decides which roles and entries apply: Xen on
// Arm has one kind of domain (no PV, PVH or HVM there), so the x86 guest types and the x86
// entries (XEN_PV for a dom0, ACPI processor, MCE) do not apply to an arm64 config, and
// domU-arm applies only there. A role that does not apply cannot work and says why.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kconfig_config.h"

namespace xa {

struct KconfigRequirement {
    KconfigRequirement(std::vector<std::string_view> symbols, std::string_view reason,
                       std::string_view arch = {})
        : any_of(std::move(symbols)), why(reason), only_on(arch) {}
    std::vector<std::string_view> any_of;  // symbols without CONFIG_; one suffices
    std::string_view why;
    std::string_view only_on;  // an architecture ("x86", "arm64"); empty: every one
};

struct KconfigRoleSpec {
    std::string_view name;   // --role name
    std::string_view title;  // human description
    std::vector<KconfigRequirement> required;
    std::vector<KconfigRequirement> optional;
    // Roles of which at least one must work too (domU: one guest type; driver-domain:
    // domU); those that do not apply to the config's architecture are left out.
    std::vector<std::string_view> needs_any_role;
    std::vector<std::string_view> only_on;  // architectures; empty: every one
};

// The architecture a config is for: "arm64" with CONFIG_ARM64=y, else "x86" (the configs
// this checker has always judged; a fragment without either counts as x86).
std::string_view kconfig_arch(const KernelConfig& config);

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
    bool applies = true;  // false: not a role on the config's architecture
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
    std::string arch;            // kconfig_arch
    std::vector<KconfigRoleResult> roles;

    const KconfigRoleResult* role(std::string_view name) const;
};

KconfigVerdict check_kernel_config(const KernelConfig& config, const std::string& origin);

}  // namespace xa
