// xen-autoload load: the role's modules into the running kernel, in parallel, each with a
// deadline; the deny list first.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>

#include "common.h"
#include "deadlines.h"
#include "deny_list.h"
#include "exit_codes.h"
#include "log.h"
#include "report.h"
#include "subcommands.h"

namespace xa {
namespace {

// 0 when every required module is present; 3 when a required one was refused with EPERM
// (no CAP_SYS_MODULE, lockdown, a signature policy); else 1.
int load_exit_code(const LoadReport& report) {
    if (report.ok()) return kExitOk;
    for (const LoadResult& r : report.results)
        if (r.counts_as_failure && r.err == EPERM) return kExitNotPermitted;
    return kExitFailed;
}

}  // namespace

std::string load_notes() {
    return "each module's insertion has a deadline of " +
           std::to_string(deadlines::kModule.count()) +
           " s\npciback-hide (dom0): driver_override before the modules are inserted, then "
           "unbind, new_slot and bind to pciback after them\n"
           "exit status: 0 every required module present and every device to hide bound to "
           "pciback, 1 one failed or is missing, 2 usage or config error, 3 not permitted\n";
}

int run_load(const Subcommand& cmd, const Options& o) {
    if (const auto refused = refuse_insertion(cmd, o)) return *refused;
    int exit_code = kExitOk;
    const auto ctx = prepare_or_report(o, exit_code);
    if (!ctx) return exit_code;
    LoadReport report;
    try {
        // The deny list first, as the daemon writes it: in the initramfs this puts it in
        // /run before any udevd starts, and /run moves to the real root, so every udevd's
        // kmod context reads it from its start (a later-created directory goes unnoticed).
        if (!o.dry_run) {
            const std::string path = o.deny_file.empty() ? kDenyListPath : o.deny_file;
            if (const auto err = write_deny_list_for(*ctx, path))
                log_warning("load: " + *err, {{}, role_name(ctx->role), 0, {}});
        }
        const Plan plan = make_plan_for(*ctx);
        for (const std::string& w : plan.warnings)
            log_warning(w, {{}, role_name(plan.role), 0, {}});
        LoadOptions lo;
        lo.jobs = o.jobs;
        lo.dry_run = o.dry_run;
        report = load_plan(*ctx, plan, lo);
        if (ctx->role == Role::none) log_info("role none: nothing to load");
        log_load_report(report);
        if (o.json) print_json(load_json(report));
        std::fflush(stdout);
        // Workers stuck in the kernel past the deadline: leave without waiting for them.
        if (report.timed_out) std::_Exit(kExitFailed);
    } catch (const ConfigError& e) {
        log_error(e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        log_error(e.what());
        return kExitFailed;
    }
    return load_exit_code(report);
}

}  // namespace xa
