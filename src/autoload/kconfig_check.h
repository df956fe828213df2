// xen-autoload check-kernel [--config FILE] [--role ROLE] [--json]
//
// Says for each Xen role whether a kernel config can work in it, symbol by symbol, the way
// moby's check-config.sh does for containers. Exit: 0 (the asked role works, or no role
// asked), 1 the role asked for with --role cannot work, 2 usage error or unreadable /
// malformed config.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "kconfig_roles.h"

namespace xa {

// Colour only on a terminal and when NO_COLOR is unset or empty (https://no-color.org).
bool kconfig_use_colour(bool stdout_is_tty, const char* no_color_env);

// The whole verdict; "role"/"works" describe the asked role (when none is asked: role null,
// works true when at least one role works).
nlohmann::ordered_json kconfig_verdict_json(const KconfigVerdict& v, const std::string& asked);
// Every role, or only ASKED when not empty.
std::string kconfig_verdict_text(const KconfigVerdict& v, const std::string& asked, bool colour);

struct CheckKernelOptions {
    std::string config;  // empty: the running kernel's
    std::string role;    // empty: report every role, exit 0
    bool json = false;
    bool colour = false;
};

// Runs the check; writes the report to OUT and one-line errors to ERR; returns the exit code.
int run_check_kernel(const CheckKernelOptions& options, std::string& out, std::string& err);

// The subcommand entry point (argv[0] is "check-kernel").
int cmd_check_kernel(int argc, char** argv);

}  // namespace xa
