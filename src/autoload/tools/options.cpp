#include "options.h"

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "daemon.h"
#include "deadlines.h"
#include "deny_list.h"
#include "exit_codes.h"
#include "kconfig_check.h"
#include "loader.h"
#include "log.h"
#include "number.h"
#include "sysfs_parse.h"
#include "sysroot.h"
#include "text_escape.h"

namespace xa {
namespace {

struct OptionSpec {
    OptionBit bit;
    const char* name;
    const char* value;  // "DIR", or nullptr for a flag
};

// Every option, in the order --help lists them.
constexpr OptionSpec kOptions[] = {
    {opt_json, "json", nullptr},
    {opt_root, "root", "DIR"},
    {opt_vendor_dir, "vendor-dir", "DIR"},
    {opt_role, "role", "ROLE"},
    {opt_kernel, "kernel", "RELEASE"},
    {opt_dry_run, "dry-run", nullptr},
    {opt_jobs, "jobs", "N"},
    {opt_deny_file, "deny-file", "PATH"},
    {opt_watch_file, "watch-file", "PATH"},
    {opt_deadline, "deadline", "SECONDS"},
    {opt_once, "once", nullptr},
    {opt_debug, "debug", nullptr},
    {opt_config, "config", "FILE"},
    {opt_kernel_role, "kernel-role", "ROLE"},
};

constexpr int kHelp = 'h';

// What an option does, for --help; the deadlines come from their table (deadlines.h).
std::string option_text(OptionBit bit, const Subcommand& cmd) {
    switch (bit) {
        case opt_json:
            return "machine-readable output (JSON)";
        case opt_root:
            return (cmd.takes & opt_dry_run) != 0
                       ? "read sys/, proc/, etc/, lib/modules/ below DIR (only with --dry-run)"
                       : "read sys/, proc/, etc/, lib/modules/ below DIR (no CPUID probe)";
        case opt_vendor_dir:
            return "the shipped policy from DIR instead of " XA_VENDOR_CONFDIR;
        case opt_role:
            return "dom0, domU, driver-domain or none instead of the detected role";
        case opt_kernel:
            return "plan for lib/modules/RELEASE (nothing of it counts as loaded)";
        case opt_dry_run:
            return "decide and log, insert nothing";
        case opt_jobs:
            return "parallel insertions, 1 to 64 (default: CPUs, at most 8)";
        case opt_deny_file:
            return std::string("write the deny list to PATH (default ") + kDenyListPath + ")";
        case opt_watch_file:
            return std::string("PATH exists while watching (default ") + kWatchFilePath +
                   ", none with --dry-run)";
        case opt_deadline:
            return "each module's insertion deadline (default " +
                   std::to_string(deadlines::kModule.count()) + "; a child process gets " +
                   std::to_string(deadlines::kChildMargin.count()) + " s more)";
        case opt_once:
            return "exit after start-up instead of watching uevents";
        case opt_debug:
            return "debug messages";
        case opt_config:
            return "read FILE (plain, gzip or xz), not /proc/config.gz or /boot/config-$(uname -r)";
        case opt_kernel_role:
            return "only this kernel role: " + kconfig_role_names() + " (old spelling: --role)";
    }
    return {};
}

std::string spelled(const OptionSpec& s) {
    std::string out = std::string("--") + s.name;
    if (s.value != nullptr) out += std::string(" ") + s.value;
    return out;
}

const OptionSpec* spec_of(int bit) {
    for (const OptionSpec& s : kOptions)
        if (static_cast<int>(s.bit) == bit) return &s;
    return nullptr;
}

// check-kernel's --kernel-role was --role; scripts may still say so.
bool role_is_kernel_role(const Subcommand& cmd) {
    return (cmd.takes & opt_role) == 0 && (cmd.takes & opt_kernel_role) != 0;
}

// One option's value into O; "" or the message (without the option's name).
std::string take(OptionBit bit, const char* value, Options& o) {
    const std::string v = value != nullptr ? value : "";
    switch (bit) {
        case opt_json:
            o.json = true;
            return {};
        case opt_root:
            if (v.empty()) return "empty directory name";
            if (::access(v.c_str(), R_OK | X_OK) != 0)
                return "not a readable directory: " + quote_text(v, 256);
            o.root = v;
            return {};
        case opt_vendor_dir: {
            // Made absolute: it is not below --root.
            char* abs = v.empty() ? nullptr : ::realpath(v.c_str(), nullptr);
            if (abs == nullptr) return "no such directory: " + quote_text(v, 256);
            o.vendor_dir = abs;
            std::free(abs);  // NOLINT(cppcoreguidelines-no-malloc)
            return {};
        }
        case opt_role:
            o.role = parse_role(v);
            if (!o.role)
                return "unknown role " + quote_text(v) + " (dom0, domU, driver-domain, none)";
            return {};
        case opt_kernel:
            o.kernel = parse_kernel_release(v);
            if (!o.kernel) return "not a kernel release: " + quote_text(v);
            return {};
        case opt_dry_run:
            o.dry_run = true;
            return {};
        case opt_jobs:
            if (const auto n = parse_unsigned(v, 1, 64)) {
                o.jobs = *n;
                return {};
            }
            return "not a number from 1 to 64: " + quote_text(v);
        case opt_deny_file:
            if (v.empty()) return "empty file name";
            o.deny_file = v;
            return {};
        case opt_watch_file:
            if (v.empty()) return "empty file name";
            o.watch_file = v;
            return {};
        case opt_deadline:
            if (const auto n = parse_unsigned(v, 1, 600)) {
                o.deadline = std::chrono::seconds(*n);
                return {};
            }
            return "not a number of seconds from 1 to 600: " + quote_text(v);
        case opt_once:
            o.once = true;
            return {};
        case opt_debug:
            o.debug = true;
            return {};
        case opt_config:
            if (v.empty()) return "empty file name";
            o.config = v;
            return {};
        case opt_kernel_role:
            if (find_kconfig_role(v) == nullptr)
                return "unknown role " + quote_text(v) + " (" + kconfig_role_names() + ")";
            o.kernel_role = v;
            return {};
    }
    return "unknown option";
}

}  // namespace

std::string synopsis(const Subcommand& cmd) {
    std::string out = cmd.name;
    for (const OptionSpec& s : kOptions)
        if ((cmd.takes & s.bit) != 0) out += " [" + spelled(s) + "]";
    if (*cmd.operands != '\0') out += std::string(" ") + cmd.operands;
    return out;
}

std::string help_text(const Subcommand& cmd) {
    std::string out =
        "usage: xen-autoload " + synopsis(cmd) + "\n" + cmd.summary + "\n\noptions:\n";
    auto row = [&out](std::string left, const std::string& text) {
        left.resize(std::max<std::size_t>(left.size() + 2, 22), ' ');
        out += left + text + "\n";
    };
    for (const OptionSpec& s : kOptions)
        if ((cmd.takes & s.bit) != 0) row("  " + spelled(s), option_text(s.bit, cmd));
    row("  -h, --help", "this text");
    if (cmd.notes != nullptr) out += "\n" + cmd.notes();
    return out;
}

void usage_error(const Subcommand& cmd, std::string_view what) {
    std::fprintf(stderr, "xen-autoload %s: %.*s (see xen-autoload %s --help)\n", cmd.name,
                 static_cast<int>(what.size()), what.data(), cmd.name);
}

int parse_options(const Subcommand& cmd, int argc, char** argv, Options& o) {
    // Every option is known to getopt, taken or not: one not taken by CMD is named as such.
    std::vector<option> longopts;
    for (const OptionSpec& s : kOptions)
        longopts.push_back({s.name, s.value != nullptr ? required_argument : no_argument, nullptr,
                            static_cast<int>(s.bit)});
    longopts.push_back({"help", no_argument, nullptr, kHelp});
    longopts.push_back({nullptr, 0, nullptr, 0});
    optind = 1;
    opterr = 0;
    for (;;) {
        const int c = getopt_long(argc, argv, ":h", longopts.data(), nullptr);
        if (c == -1) break;
        if (c == kHelp) {
            std::fputs(help_text(cmd).c_str(), stdout);
            return kExitOk;
        }
        if (c == ':') {  // a known option without its value
            const OptionSpec* s = spec_of(optopt);
            usage_error(cmd, std::string(s != nullptr ? std::string("--") + s->name
                                                      : std::string(argv[optind - 1])) +
                                 ": missing value");
            return kExitUsage;
        }
        const OptionSpec* s = spec_of(c);
        if (s == nullptr) {
            usage_error(cmd, quote_text(argv[optind - 1]) + ": unknown option");
            return kExitUsage;
        }
        OptionBit bit = s->bit;
        if (bit == opt_role && role_is_kernel_role(cmd)) bit = opt_kernel_role;
        const std::string name = std::string("--") + s->name;
        if ((cmd.takes & bit) == 0) {
            usage_error(cmd, name + ": option not taken by this command");
            return kExitUsage;
        }
        if (const std::string why = take(bit, optarg, o); !why.empty()) {
            std::string what = name;
            what += ": ";
            what += why;
            usage_error(cmd, what);
            return kExitUsage;
        }
    }
    for (int i = optind; i < argc; ++i) o.operands.emplace_back(argv[i]);
    if (o.operands.size() > cmd.max_operands) {
        usage_error(cmd, "unexpected argument " + quote_text(o.operands[cmd.max_operands]));
        return kExitUsage;
    }
    if (o.operands.size() < cmd.min_operands) {
        usage_error(cmd, std::string("expected ") + cmd.operands);
        return kExitUsage;
    }
    if (o.kernel) {
        const SysRoot root(o.root);
        const std::string tree = "lib/modules/" + *o.kernel;
        if (!root.exists(tree)) {
            usage_error(cmd, "--kernel: no module tree " + quote_text(root.path(tree), 256));
            return kExitUsage;
        }
    }
    return -1;
}

std::optional<int> refuse_insertion(const Subcommand& cmd, const Options& o) {
    // Under the test suite's insertion shim (tests/shim) nothing reaches the kernel.
    if (o.dry_run || module_insertion_simulated()) return std::nullopt;
    if (!o.root.empty()) {
        log_error(std::string(cmd.name) + " under --root " + quote_text(o.root, 256) +
                  " only with --dry-run: modules go into the running kernel");
        return kExitNotPermitted;
    }
    if (::geteuid() != 0) {
        log_error(std::string(cmd.name) +
                  ": loading modules needs root (CAP_SYS_MODULE); use --dry-run to see what "
                  "would load");
        return kExitNotPermitted;
    }
    return std::nullopt;
}

}  // namespace xa
