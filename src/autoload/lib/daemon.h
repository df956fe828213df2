// `xen-autoload daemon`: the Type=notify service. At start: detect, write the deny list,
// load the role's modules in parallel (each with a deadline), handle the backend devices
// that already exist (coldplug), then READY=1. Afterwards it sleeps in poll() on the
// kernel's uevent socket and a signalfd: xen-backend "add" events are handled like the udev
// helper does (policy, deny, log which domain asked for what); SIGHUP reloads the policy;
// SIGTERM/SIGINT exit 0. Without Xen it reports READY and exits 0 at once. From READY until
// it ends, the watch file (below) says that it handles new backend devices.
// All libkmod and journal work runs in short-lived children (forked_task.h), so the idle
// process maps neither library (RSS < 2 MiB).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "deadlines.h"
#include "outcome.h"

namespace xa {

// The watch file: it exists while a daemon that is ready watches uevents, so every new
// xen-backend device gets handled by that daemon. 70-xen-autoload.rules then does not run
// the udev helper for the device (TEST on this path): one loader per device, not two each
// opening libkmod (in a one-vCPU dom0 under emulation they slowed a guest's `xl create`).
// Without the file (no daemon, the initramfs, a daemon still starting or gone) the helper
// handles devices. The daemon removes it when it ends; xen-autoload.service also removes it
// after any end of the daemon (ExecStopPost=), a crash included. Holds the daemon's pid.
inline constexpr const char* kWatchFilePath = "/run/xen-autoload/watching";

struct DaemonOptions {
    std::string root;        // --root DIR (tests; only with --dry-run)
    std::string vendor_dir;  // --vendor-dir DIR
    std::string deny_path;   // --deny-file PATH (default kDenyListPath)
    std::string watch_path;  // the watch file (kWatchFilePath); "" for none
    bool dry_run = false;    // decide and log, insert nothing
    unsigned jobs = 0;
    std::chrono::milliseconds module_deadline{deadlines::kModule};
    // Exit after start-up instead of watching (tests, benchmarks).
    bool once = false;
};

// The devices below ROOT/sys/bus/xen-backend/devices with their MODALIAS (from each
// device's uevent file), as (alias, devpath) pairs; the coldplug half of the daemon.
std::vector<std::pair<std::string, std::string>> existing_backend_devices(const std::string& root);

// Runs until SIGTERM/SIGINT (or start-up only, with ONCE). ok: stopped by a signal, not on
// Xen, or started with --once; failed: a required module failed at start, or the uevent
// socket failed; config_error: the policy is unusable. The caller checks root privileges
// and that ROOT goes with DRY_RUN (tools/options.h).
Outcome run_daemon(const DaemonOptions& opts);

}  // namespace xa
