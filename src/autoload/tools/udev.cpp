// xen-autoload udev MODALIAS [DEVPATH]: run by 70-xen-autoload.rules for a xen-backend
// device (lib/udev_helper.h does the work).
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "common.h"
#include "exit_codes.h"
#include "log.h"
#include "module_index.h"
#include "subcommands.h"
#include "text_escape.h"
#include "udev_helper.h"

namespace xa {

int run_udev(const Subcommand& cmd, const Options& o) {
    BackendRequest req{o.operands[0], o.operands.size() > 1 ? o.operands[1] : ""};
    if (const auto why = check_alias(req.alias)) {
        log_error("udev: MODALIAS refused: " + *why + ": " + quote_text(req.alias));
        return kExitUsage;
    }
    if (const auto refused = refuse_insertion(cmd, o)) return *refused;
    try {
        // Detection + policy, as for every command: the role decides whether backends load.
        Options detected = o;
        detected.role.reset();
        int exit_code = kExitOk;
        const auto ctx = prepare_or_report(detected, exit_code);
        if (!ctx) return exit_code;
        BackendOptions opts;
        opts.role = ctx->role;
        opts.dry_run = o.dry_run;
        const KmodIndex index(ctx->root, ctx->kernel);
        const BackendOutcome out = handle_backend_request(
            req, ctx->policy, index, kmod_inserter_factory(ctx->root, ctx->kernel), opts);
        if (out.timed_out) {  // a worker stuck in the kernel: leave without waiting for it
            std::fflush(nullptr);
            std::_Exit(kExitFailed);
        }
        return out.ok() ? kExitOk : kExitFailed;
    } catch (const ConfigError& e) {
        log_error(e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        log_error(std::string("udev: ") + e.what());
        return kExitFailed;
    }
}

}  // namespace xa
