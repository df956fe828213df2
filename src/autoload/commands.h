// The CLI's subcommands. Each takes argv with argv[0] = the subcommand name (getopt-ready)
// and returns the process exit code (docs/design.md: 0 ok, 1 failed/incomplete, 2 usage or
// config error, 3 not permitted).
#pragma once

namespace xa {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotPermitted = 3;

int cmd_detect(int argc, char** argv);
int cmd_plan(int argc, char** argv);
int cmd_load(int argc, char** argv);
int cmd_status(int argc, char** argv);

}  // namespace xa
