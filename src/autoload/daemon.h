// `xen-autoload daemon`: the Type=notify service. At start: detect, write the deny list,
// load the role's modules in parallel (each with a deadline), handle the backend devices
// that already exist (coldplug), then READY=1. Afterwards it sleeps in poll() on the
// kernel's uevent socket and a signalfd: xen-backend "add" events are handled like the udev
// helper does (policy, deny, log which domain asked for what); SIGHUP reloads the policy;
// SIGTERM/SIGINT exit 0. Without Xen it reports READY and exits 0 at once.
// All libkmod and journal work runs in short-lived children (forked_task.h), so the idle
// process maps neither library (RSS < 2 MiB).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "deadlines.h"

namespace xa {

struct DaemonOptions {
    std::string root;        // --root DIR (tests; only with --dry-run)
    std::string vendor_dir;  // --vendor-dir DIR
    std::string deny_path;   // --deny-file PATH (default kDenyListPath)
    bool dry_run = false;    // decide and log, insert nothing
    unsigned jobs = 0;
    std::chrono::milliseconds module_deadline{deadlines::kModule};
    // Exit after start-up instead of watching (tests, benchmarks).
    bool once = false;
};

// The devices below ROOT/sys/bus/xen-backend/devices with their MODALIAS (from each
// device's uevent file), as (alias, devpath) pairs; the coldplug half of the daemon.
std::vector<std::pair<std::string, std::string>> existing_backend_devices(const std::string& root);

int run_daemon(const DaemonOptions& opts);

// `xen-autoload daemon [--dry-run] [--root DIR] [--vendor-dir DIR] [--deny-file PATH]
//  [--jobs N] [--deadline SECONDS] [--once] [--debug]`. Exit codes: 0 stopped by SIGTERM (or no
//  Xen),
// 1 a required module failed at start, 2 usage or config error, 3 not permitted.
int cmd_daemon(int argc, char** argv);

}  // namespace xa
