// One function per subcommand, one file each (detect.cpp, plan.cpp, ...): the options are
// parsed already (options.h); each returns the process exit code (exit_codes.h).
#pragma once

#include "options.h"

namespace xa {

int run_detect(const Subcommand& cmd, const Options& o);
int run_plan(const Subcommand& cmd, const Options& o);
int run_load(const Subcommand& cmd, const Options& o);
int run_status(const Subcommand& cmd, const Options& o);
int run_daemon_command(const Subcommand& cmd, const Options& o);
int run_udev(const Subcommand& cmd, const Options& o);
int run_check_kernel(const Subcommand& cmd, const Options& o);

// The deadline note of load's --help (tests/boot/unit-file-test.sh reads it).
std::string load_notes();

}  // namespace xa
