// xen-autoload check-kernel: can this kernel config serve each Xen role (lib/kconfig_check.h).
// Its roles are kernel roles (native, dom0, domU-pv, ...), named by --kernel-role so that
// they are not taken for plan's --role (dom0, domU, driver-domain, none).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "exit_codes.h"
#include "kconfig_check.h"
#include "subcommands.h"

namespace xa {

int run_check_kernel(const Subcommand&, const Options& o) {
    CheckKernelOptions c;
    c.config = o.config;
    c.role = o.kernel_role;
    c.json = o.json;
    c.colour = kconfig_use_colour(isatty(STDOUT_FILENO) == 1, std::getenv("NO_COLOR"));
    try {
        const CheckKernelResult r = check_kernel(c);
        std::fputs(r.report.c_str(), stdout);
        return exit_code(r.outcome);
    } catch (const std::exception& e) {  // ConfigError, and never an abort for bad input
        std::fprintf(stderr, "xen-autoload check-kernel: %s\n", e.what());
        return kExitUsage;
    }
}

}  // namespace xa
