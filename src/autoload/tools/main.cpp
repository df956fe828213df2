// xen-autoload: the subcommand table, and a dispatcher. Each subcommand is one row here, one
// file (subcommands.h), and the options it takes (options.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "exit_codes.h"
#include "options.h"
#include "subcommands.h"

namespace xa {
namespace {

std::string daemon_notes() {
    return "exit status: 0 stopped by SIGTERM (or not on Xen, or --once), 1 a required module "
           "failed at start, 2 usage or config error, 3 not permitted\n";
}

std::string udev_notes() {
    return "MODALIAS: xen-backend:TYPE or xen:TYPE; DEVPATH: the device "
           "(/devices/xen-backend/vif-3-0)\n"
           "exit status: 0 loaded, present, denied by policy or not for the role, 1 failed or "
           "no module for the alias, 2 usage or config error, 3 not permitted\n";
}

std::string check_kernel_notes() {
    return "Without --config: /proc/config.gz, else /boot/config-$(uname -r).\n"
           "exit status: 0 works (or no --kernel-role), 1 the --kernel-role cannot work, 2 "
           "usage or config error\n";
}

std::string status_notes() {
    return "pciback-hide (dom0): one line per device a rule matches, with the driver it is "
           "bound to now (ok: pciback, MISSING: another driver or none)\n"
           "deny list (Xen): one line when /run/modprobe.d/xen-autoload-deny.conf is missing, "
           "unreadable or differs from the deny rules\n"
           "exit status: 0 complete, 1 a required module is missing, a denied one is loaded, "
           "a device to hide is not bound to pciback, the deny list is not in place, or no "
           "policy is configured, 2 usage or config error\n";
}

std::string plan_notes() {
    return "pciback-hide (dom0): the rules, the devices they match and their drivers now; "
           "xen-pciback is then required\n";
}

constexpr unsigned kPolicy = opt_root | opt_vendor_dir;

constexpr Subcommand kSubcommands[] = {
    {"detect", "hypervisor, role, guest type, evidence", opt_json | kPolicy, "", 0, 0, nullptr,
     run_detect},
    {"plan", "what load would do (read-only)", opt_json | kPolicy | opt_role | opt_kernel, "", 0, 0,
     plan_notes, run_plan},
    {"load", "load the role's modules",
     opt_json | kPolicy | opt_role | opt_dry_run | opt_jobs | opt_deny_file, "", 0, 0, load_notes,
     run_load},
    {"status", "policy vs loaded modules", opt_json | kPolicy | opt_role, "", 0, 0, status_notes,
     run_status},
    {"daemon", "the systemd service (Type=notify): load, then watch backend uevents",
     kPolicy | opt_dry_run | opt_jobs | opt_deny_file | opt_watch_file | opt_deadline | opt_once |
         opt_debug,
     "", 0, 0, daemon_notes, run_daemon_command},
    {"udev", "called by udev rules for a Xen backend device", kPolicy | opt_dry_run,
     "MODALIAS [DEVPATH]", 1, 2, udev_notes, run_udev},
    {"check-kernel", "can this kernel config serve each Xen role",
     opt_json | opt_config | opt_kernel_role, "", 0, 0, check_kernel_notes, run_check_kernel},
};

void print_help() {
    std::printf(
        "usage: xen-autoload COMMAND [OPTIONS]\n"
        "Load exactly the Xen backend drivers this host's role needs.\n\ncommands:\n");
    for (const Subcommand& s : kSubcommands) std::printf("  %-13s %s\n", s.name, s.summary);
    std::printf(
        "\nxen-autoload COMMAND --help lists the options of each.\n"
        "\nexit status: 0 ok, 1 a required module failed or is missing, 2 usage or config error,\n"
        "3 not permitted. See xen-autoload(8) and xen-autoload.conf(5).\n");
}

}  // namespace
}  // namespace xa

int main(int argc, char** argv) {
    using namespace xa;
    if (argc < 2) {
        print_help();
        return kExitUsage;
    }
    if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
        std::strcmp(argv[1], "help") == 0) {
        print_help();
        return kExitOk;
    }
    if (std::strcmp(argv[1], "--version") == 0) {
        std::printf("xen-autoload %s\n", XA_VERSION);
        return kExitOk;
    }
    // libkmod prints what it logs inside kmod_new() (before a context can get our log
    // function, lib/module_index.cpp) raw on stderr at its default priority; KMOD_LOG=0
    // mutes that, and each context then logs through us. Set here, single-threaded, before
    // any context exists.
    ::setenv("KMOD_LOG", "0", 1);
    for (const Subcommand& s : kSubcommands) {
        if (std::strcmp(argv[1], s.name) != 0) continue;
        Options o;
        if (const int rc = parse_options(s, argc - 1, argv + 1, o); rc >= 0) return rc;
        return s.run(s, o);
    }
    std::fprintf(stderr, "xen-autoload: unknown command: '%s' (see xen-autoload --help)\n",
                 argv[1]);
    return kExitUsage;
}
