// The one option layer of every subcommand (systemd's small tools as the model: a table, a
// parse_options(), a help text made from the same table). Every option exists once, with one
// spelling, one check and one message format that names it:
//   xen-autoload plan: --role: unknown role 'x' (dom0, domU, driver-domain, none)
// A subcommand says which options it takes (Subcommand::takes); its --help lists exactly
// those. The guards of the commands that insert modules (load, daemon, udev) are here too.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform.h"

namespace xa {

// One bit per option.
enum OptionBit : unsigned {
    opt_json = 1U << 0,
    opt_root = 1U << 1,
    opt_vendor_dir = 1U << 2,
    opt_role = 1U << 3,
    opt_kernel = 1U << 4,
    opt_dry_run = 1U << 5,
    opt_jobs = 1U << 6,
    opt_deny_file = 1U << 7,
    opt_deadline = 1U << 8,
    opt_once = 1U << 9,
    opt_debug = 1U << 10,
    opt_config = 1U << 11,
    opt_kernel_role = 1U << 12,
    opt_watch_file = 1U << 13,
};

struct Options {
    bool json = false;
    std::string root;        // --root DIR, checked readable
    std::string vendor_dir;  // --vendor-dir DIR, made absolute (realpath)
    std::optional<Role> role;
    std::optional<std::string> kernel;  // --kernel RELEASE, its module tree exists
    bool dry_run = false;
    unsigned jobs = 0;  // 0: the loader's default
    std::string deny_file;
    std::string watch_file;  // daemon --watch-file PATH
    std::optional<std::chrono::seconds> deadline;
    bool once = false;
    bool debug = false;
    std::string config;       // check-kernel --config FILE
    std::string kernel_role;  // check-kernel --kernel-role ROLE (a kconfig role)
    std::vector<std::string> operands;
};

struct Subcommand {
    const char* name;
    const char* summary;   // one line, for `xen-autoload --help` and its own --help
    unsigned takes;        // OptionBit values
    const char* operands;  // "MODALIAS [DEVPATH]", or "" for none
    unsigned min_operands;
    unsigned max_operands;
    std::string (*notes)();  // more lines for its --help (exit status), may be null
    int (*run)(const Subcommand& cmd, const Options& options);
};

// "detect [--json] [--root DIR] [--vendor-dir DIR]"
std::string synopsis(const Subcommand& cmd);
// The whole --help of CMD: synopsis, summary, one line per option, notes.
std::string help_text(const Subcommand& cmd);

// Parses ARGV (ARGV[0] is the subcommand's name) into O. Returns -1 to go on, else the exit
// code to return at once: 0 after --help, 2 after a usage error (one line on stderr).
int parse_options(const Subcommand& cmd, int argc, char** argv, Options& o);

// "xen-autoload CMD: WHAT (see xen-autoload CMD --help)" on stderr.
void usage_error(const Subcommand& cmd, std::string_view what);

// load, daemon and udev insert modules into the running kernel: refused (exit 3, one logged
// line) under --root and without root privileges, unless --dry-run. nullopt to go on.
std::optional<int> refuse_insertion(const Subcommand& cmd, const Options& o);

}  // namespace xa
