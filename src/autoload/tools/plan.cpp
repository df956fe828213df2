// xen-autoload plan: what load would do, read-only.
#include "common.h"
#include "exit_codes.h"
#include "report.h"
#include "subcommands.h"

namespace xa {

int run_plan(const Subcommand&, const Options& o) {
    return show_plan(o, {plan_json, plan_text, [](const Plan&) { return kExitOk; }});
}

}  // namespace xa
