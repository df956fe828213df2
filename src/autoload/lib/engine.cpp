#include "engine.h"

#include <stdexcept>

#include "cpuid.h"
#include "deny_list.h"
#include "log.h"
#include "module_index.h"

namespace xa {

Platform detect(const SysRoot& root) {
    if (!root.is_live() || !kHasCpuid) return detect_platform(root, nullptr);
    const HardwareCpuidProbe cpuid;
    return detect_platform(root, &cpuid);
}

Context prepare(const SysRoot& root, std::optional<Role> role_override, const PolicyDirs& dirs,
                const std::optional<std::string>& kernel_override) {
    Context ctx{root, {}, {}, Role::none, {}, true};
    ctx.policy = load_policy(root, dirs);
    ctx.platform = detect(root);
    ctx.role = role_override ? *role_override : effective_role(ctx.platform.role, ctx.policy);
    if (kernel_override) {
        ctx.kernel = *kernel_override;
        ctx.running_kernel = ctx.platform.kernel == kernel_override;
        return ctx;
    }
    if (!ctx.platform.kernel)
        throw std::runtime_error("cannot tell the kernel release: " +
                                 root.path("proc/sys/kernel/osrelease") + " is missing or invalid");
    ctx.kernel = *ctx.platform.kernel;
    return ctx;
}

Plan make_plan_for(const Context& ctx) {
    if (ctx.role == Role::none) {
        // Role none attempts nothing: do not even open the module tree.
        Plan plan;
        plan.role = Role::none;
        plan.kernel = ctx.kernel;
        plan.tree = ctx.root.path("lib/modules/" + ctx.kernel);
        plan.pci_hide = survey_pci_hide(ctx.root, ctx.role, ctx.policy.pciback_hide);
        return plan;
    }
    const KmodIndex index(ctx.root, ctx.kernel, ctx.running_kernel);
    Plan plan = make_plan(ctx.role, ctx.policy, index);
    plan.pci_hide = survey_pci_hide(ctx.root, ctx.role, ctx.policy.pciback_hide);
    plan.warnings.insert(plan.warnings.end(), plan.pci_hide.warnings.begin(),
                         plan.pci_hide.warnings.end());
    if (!index.tree_present())
        plan.warnings.push_back("no module tree at " + index.tree() + " (no modules.dep)");
    if (index.index_problem()) plan.warnings.push_back(*index.index_problem());
    return plan;
}

std::optional<std::string> write_deny_list_for(const Context& ctx, const std::string& path) {
    if (ctx.policy.deny.empty()) return write_deny_list(path, {});
    const KmodIndex index(ctx.root, ctx.kernel);
    return write_deny_list(path, deny_list_text(ctx.policy, &index));
}

std::optional<DenyListCheck> check_deny_list_for(const Context& ctx) {
    if (ctx.platform.hypervisor != Hypervisor::xen) return std::nullopt;
    if (ctx.policy.deny.empty()) return check_deny_list(ctx.root, kDenyListPath, {});
    const KmodIndex index(ctx.root, ctx.kernel);
    return check_deny_list(ctx.root, kDenyListPath, deny_list_text(ctx.policy, &index));
}

LoadReport load_plan(const Context& ctx, const Plan& plan, const LoadOptions& opts) {
    if (!opts.dry_run && !ctx.root.is_live() && !module_insertion_simulated())
        throw std::logic_error("refusing to insert modules for a tree under --root " +
                               ctx.root.root() + ": use --dry-run");
    if (!opts.dry_run && !ctx.running_kernel && !module_insertion_simulated())
        throw std::logic_error("refusing to insert modules of kernel " + ctx.kernel +
                               ", which is not the running one");
    // pciback-hide: driver_override before any module is inserted, so that no driver this
    // run loads (nor udev's coldplug after it) takes a device to hide; the binding to pciback
    // once xen-pciback is in (pci_hide.h).
    const SysfsWrite write = sysroot_writer(ctx.root);
    PciHideReport hide = pci_hide_claim(ctx.root, plan.pci_hide, write, opts.dry_run);
    LoadReport report = execute_plan(plan, kmod_inserter_factory(ctx.root, ctx.kernel), opts);
    if (report.timed_out)
        pci_hide_abandon(hide, "the module loading did not finish in time");
    else
        pci_hide_bind(ctx.root, write, hide);
    report.pci_hide = std::move(hide);
    return report;
}

void log_load_report(const LoadReport& report) {
    const std::string role = role_name(report.role);
    for (const LoadResult& r : report.results) {
        const LogFields f{r.name, role, r.err, {}};
        if (r.status == LoadStatus::failed) {
            if (r.counts_as_failure)
                log_error(r.message, f);
            else
                log_warning(r.message, f);
        } else if (r.counts_as_failure) {
            log_error(r.message, f);
        } else if (r.warn) {
            log_warning(r.message, f);
        } else {
            log_info(r.message, f);
        }
    }
    // pciback-hide after the modules: it was completed after them.
    for (const std::string& n : report.pci_hide.notes) log_info(n, {"xen_pciback", role, 0, {}});
    for (const PciHideResult& r : report.pci_hide.results) {
        const LogFields f{"xen_pciback", role, r.err, {}};
        if (r.status == PciHideStatus::failed)
            log_error(r.message, f);
        else
            log_info(r.message, f);
    }
}

}  // namespace xa
