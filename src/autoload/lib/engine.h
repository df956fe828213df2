// The engine in a few calls, for every front end (CLI, udev helper, daemon):
//   Context ctx = prepare(root, role_override, dirs);   // detect + policy
//   Plan plan = make_plan_for(ctx);                       // libkmod, read-only
//   LoadReport rep = load_plan(ctx, plan, opts);          // parallel libkmod insertion
//   log_load_report(rep);                                 // one line per module
#pragma once

#include <optional>

#include "loader.h"
#include "plan.h"
#include "platform.h"
#include "policy.h"
#include "sysroot.h"

namespace xa {

// Detection with the hardware CPUID probe on the live system, without CPUID under a root.
Platform detect(const SysRoot& root);

struct Context {
    SysRoot root;
    Platform platform;
    Policy policy;
    Role role = Role::none;  // effective: the override, or detected + driver-domain mode
    std::string kernel;      // release whose lib/modules tree is used
    // KERNEL is the one running (or captured) in ROOT: its loaded modules count. False when
    // planning for another release (an initramfs built for a newly installed kernel).
    bool running_kernel = true;
};

// Throws ConfigError (exit 2) for policy errors, std::runtime_error when the kernel release
// cannot be found. KERNEL_OVERRIDE: plan for that release's lib/modules tree instead of the
// running one (its modules then count as not loaded).
Context prepare(const SysRoot& root, std::optional<Role> role_override, const PolicyDirs& dirs,
                const std::optional<std::string>& kernel_override = std::nullopt);

Plan make_plan_for(const Context& ctx);

// Writes (or removes) the deny list at PATH from ctx's policy; the module tree is opened
// only when there is a deny rule to resolve. Returns nothing, or one line naming path and errno.
std::optional<std::string> write_deny_list_for(const Context& ctx, const std::string& path);

// status: the deny list at kDenyListPath inside ctx's root against what write_deny_list_for
// would write now (deny_list.h). Nullopt when not on Xen: the daemon writes the list only
// there. Opens the module tree only when there is a deny rule to resolve.
std::optional<DenyListCheck> check_deny_list_for(const Context& ctx);

// Refuses (std::logic_error) a real load under a root other than the live system, or for
// a kernel other than the running one (unless the insertion is simulated: loader.h).
LoadReport load_plan(const Context& ctx, const Plan& plan, const LoadOptions& opts);

// Logs one line per module (warnings for failed optional modules, errors for required ones),
// with MODULE=, XA_ROLE= and ERRNO= journal fields.
void log_load_report(const LoadReport& report);

}  // namespace xa
