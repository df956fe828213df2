// xen-autoload status: the policy against the loaded modules and the deny list in
// /run/modprobe.d; exit 1 when incomplete.
#include "common.h"
#include "exit_codes.h"
#include "report.h"
#include "subcommands.h"

namespace xa {

int run_status(const Subcommand&, const Options& o) {
    return show_plan(
        o, {status_json, status_text,
            [](const Plan& plan) { return status_complete(plan) ? kExitOk : kExitFailed; }, true});
}

}  // namespace xa
