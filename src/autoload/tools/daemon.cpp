// xen-autoload daemon: the systemd service (lib/daemon.h).
#include "daemon.h"

#include "common.h"
#include "exit_codes.h"
#include "log.h"
#include "subcommands.h"

namespace xa {

int run_daemon_command(const Subcommand& cmd, const Options& o) {
    if (o.debug) log_init(LogTarget::auto_detect, LogLevel::debug);
    if (const auto refused = refuse_insertion(cmd, o)) return *refused;
    DaemonOptions d;
    d.root = o.root;
    d.vendor_dir = o.vendor_dir;
    d.deny_path = o.deny_file;
    // A dry run loads nothing: the udev helper must keep handling devices, unless a test
    // names a file of its own.
    d.watch_path = !o.watch_file.empty() ? o.watch_file : o.dry_run ? "" : kWatchFilePath;
    d.dry_run = o.dry_run;
    d.jobs = o.jobs;
    if (o.deadline) d.module_deadline = *o.deadline;
    d.once = o.once;
    return exit_code(run_daemon(d));
}

}  // namespace xa
