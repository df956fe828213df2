// xen-autoload: a thin dispatcher. Each subcommand is one row of kSubcommands; front ends
// added by other pieces (daemon, udev, check-kernel) add a row and an #include.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.h"
#include "daemon.h"
#include "kconfig_check.h"
#include "udev_helper.h"

namespace {

struct Subcommand {
    const char* name;
    int (*run)(int argc, char** argv);  // argv[0] is the subcommand name
    const char* help;                   // one line for --help
};

constexpr Subcommand kSubcommands[] = {
    {"detect", xa::cmd_detect,
     "detect [--json] [--root DIR]: hypervisor, role, guest type, evidence"},
    {"plan", xa::cmd_plan,
     "plan [--json] [--root DIR] [--role ROLE] [--kernel RELEASE]: what load would do "
     "(read-only)"},
    {"load", xa::cmd_load,
     "load [--dry-run] [--jobs N] [--role ROLE] [--root DIR] [--json]: load the role's modules"},
    {"status", xa::cmd_status,
     "status [--json] [--root DIR] [--role ROLE]: policy vs loaded modules"},
    {"daemon", xa::cmd_daemon,
     "daemon [--dry-run] [--debug]: the systemd service (Type=notify): load, then watch uevents"},
    {"udev", xa::cmd_udev,
     "udev MODALIAS [DEVPATH] [--dry-run]: called by udev rules for a Xen backend device"},
    {"check-kernel", xa::cmd_check_kernel,
     "check-kernel [--config FILE] [--role ROLE] [--json]: can this kernel config serve each Xen "
     "role"},
};

void print_help() {
    std::printf(
        "usage: xen-autoload COMMAND [OPTIONS]\n"
        "Load exactly the Xen backend drivers this host's role needs.\n\ncommands:\n");
    for (const Subcommand& s : kSubcommands) std::printf("  %s\n", s.help);
    std::printf(
        "\ncommon options:\n"
        "  --root DIR        read sys/, proc/, dev/, etc/, lib/modules/ below DIR (no CPUID "
        "probe)\n"
        "  --role ROLE       dom0, domU, driver-domain or none instead of the detected role\n"
        "  --vendor-dir DIR  read the shipped policy from DIR instead of " XA_VENDOR_CONFDIR
        "\n"
        "  --json            machine-readable output\n"
        "\nexit status: 0 ok, 1 a required module failed or is missing, 2 usage or config error,\n"
        "3 not permitted. See xen-autoload(8) and xen-autoload.conf(5).\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_help();
        return xa::kExitUsage;
    }
    if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
        std::strcmp(argv[1], "help") == 0) {
        print_help();
        return xa::kExitOk;
    }
    if (std::strcmp(argv[1], "--version") == 0) {
        std::printf("xen-autoload %s\n", XA_VERSION);
        return xa::kExitOk;
    }
    // libkmod prints what it logs inside kmod_new() (before a context can get our log
    // function, module_index.cpp) raw on stderr at its default priority; KMOD_LOG=0 mutes
    // that, and each context then logs through us. Set here, single-threaded, before any
    // context exists.
    ::setenv("KMOD_LOG", "0", 1);
    for (const Subcommand& s : kSubcommands) {
        if (std::strcmp(argv[1], s.name) == 0) return s.run(argc - 1, argv + 1);
    }
    std::fprintf(stderr, "xen-autoload: unknown command: '%s' (see xen-autoload --help)\n",
                 argv[1]);
    return xa::kExitUsage;
}
