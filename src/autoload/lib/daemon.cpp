#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "deadlines.h"
#include "deny_list.h"
#include "engine.h"
#include "forked_task.h"
#include "log.h"
#include "module_index.h"
#include "notify_socket.h"
#include "runtime_file.h"
#include "sysroot.h"
#include "text_escape.h"
#include "text_lines.h"
#include "udev_helper.h"
#include "uevent_monitor.h"
#include "unload.h"

namespace xa {

std::vector<std::pair<std::string, std::string>> existing_backend_devices(
    const std::string& root_dir) {
    const SysRoot root(root_dir);
    std::vector<std::pair<std::string, std::string>> out;
    const std::string bus = "sys/bus/xen-backend/devices";
    for (const std::string& name : root.list_dir(bus)) {
        const std::string link =
            bus + "/" + name;  // NOLINT(performance-inefficient-string-concatenation)
        const ReadResult uevent = root.read(link + "/uevent", 4096);
        if (!uevent.ok()) continue;
        std::string alias;
        Lines lines(uevent.data);
        while (const auto line = lines.next())
            if (line->starts_with("MODALIAS=")) alias = std::string(line->substr(9));
        if (alias.empty()) continue;
        // The bus lists symlinks into /sys/devices; the devpath is the link target without
        // its leading "../" steps.
        std::string devpath = "/devices/xen-backend/" + name;
        // Confined: the link's directory is resolved inside the root.
        if (const auto link_target = root.read_link(link)) {
            std::string_view target(*link_target);
            while (target.starts_with("../")) target.remove_prefix(3);
            if (target.starts_with("devices/")) devpath = "/" + std::string(target);
        }
        out.emplace_back(alias, devpath);
    }
    return out;
}

namespace {

void notify(const std::string& text) {
    // No-op outside systemd (NOTIFY_SOCKET unset). Only the main process may notify
    // (NotifyAccess=main, the default): the children never call this.
    (void)notify_service_manager(text);
}

// Time a child gets beyond the module deadline(s) for everything else (deadlines.h).
constexpr std::chrono::milliseconds kChildMargin{deadlines::kChildMargin};

// Runs WORK in a child (run_forked) after moving systemd's bound for the current state
// (start, reload) past the child's own DEADLINE: TimeoutStartSec counts from the unit's
// start, and on a slow machine what came before the child can eat the margin between the
// two (a PVH dom0 under emulation: systemd killed the start before the child's deadline,
// whose message names the module that hung, could fire). EXTEND_TIMEOUT_USEC only ever
// extends, never shortens, the unit's own timeout; while the unit is active, systemd
// ignores it.
bool run_child(const std::string& what, const std::function<bool()>& work,
               std::chrono::milliseconds deadline) {
    const auto bound =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline + deadlines::kServiceMargin);
    notify("EXTEND_TIMEOUT_USEC=" + std::to_string(bound.count()));
    return run_forked(what, work, deadline);
}

// The watch file (daemon.h) for the lifetime of this object; "" for none. A failure to
// write or remove it is a warning: the udev helper then also handles devices (twice the
// work, the same outcome).
class WatchFile {
  public:
    explicit WatchFile(std::string path) : path_(std::move(path)) {
        if (path_.empty()) return;
        if (const auto err = write_runtime_file(path_, std::to_string(::getpid()) + "\n"))
            log_warning("daemon: " + *err + " (udev will also run the helper for each device)");
    }
    ~WatchFile() {
        if (path_.empty()) return;
        if (const auto err = write_runtime_file(path_, "")) log_warning("daemon: " + *err);
    }
    WatchFile(const WatchFile&) = delete;
    WatchFile& operator=(const WatchFile&) = delete;

  private:
    std::string path_;
};

// The long-lived process keeps only the Context (platform, policy: no libkmod) and the
// sockets; all libkmod and journal work happens in children (forked_task.h says why).
class Daemon {
  public:
    explicit Daemon(const DaemonOptions& o) : opts_(o), root_(o.root) {
        dirs_ = default_policy_dirs();
        dirs_.vendor_override = o.vendor_dir;
    }

    Outcome run() {
        // The main process logs to stderr only: sd_journal_sendv would map libsystemd into
        // it for good. On the journal stream, "<N>" prefixes keep the priorities.
        log_init(stderr_is_journal() ? LogTarget::journal_stream : LogTarget::stderr_only,
                 log_level());
        // Signals first, then the socket, then the scan: an event that arrives while we
        // load is queued on the socket and handled after READY, never lost.
        sigset_t mask;
        sigemptyset(&mask);
        for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
        if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return fatal("sigprocmask", errno);
        sigfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd_ < 0) return fatal("signalfd", errno);

        std::optional<Context> ctx;
        try {
            ctx = prepare(root_, std::nullopt, dirs_);
        } catch (const ConfigError& e) {
            log_error(e.what());
            notify(std::string("STATUS=configuration error: ") + e.what());
            return Outcome::config_error;
        } catch (const std::exception& e) {
            log_error(std::string("daemon: ") + e.what());
            notify(std::string("STATUS=") + e.what());
            return Outcome::failed;
        }
        if (ctx->platform.hypervisor == Hypervisor::none) {
            log_info("daemon: not running on Xen, nothing to do");
            notify("READY=1\nSTATUS=not running on Xen, nothing to do");
            return Outcome::ok;
        }

        std::unique_ptr<UeventMonitor> monitor;
        if (!opts_.once) {
            try {
                monitor = std::make_unique<UeventMonitor>(1);
                log_debug("daemon: listening for kernel uevents on netlink port " +
                          std::to_string(monitor->port()));
            } catch (const std::system_error& e) {
                log_error(std::string("daemon: ") + e.what(), {{}, {}, e.code().value(), {}});
                return Outcome::failed;
            }
        }

        if (!apply(*ctx, "start")) return Outcome::failed;
        coldplug(*ctx);
        const std::string summary =
            std::string(role_name(ctx->role)) + ": " +
            (opts_.dry_run ? "dry run, nothing loaded" : "modules loaded") +
            (opts_.once ? ", not watching (--once)" : ", watching backend devices");
        // From here on, new devices are this process's: the udev rules leave them to it.
        const WatchFile watching(opts_.once ? std::string() : opts_.watch_path);
        notify("READY=1\nSTATUS=" + summary);
        log_info("daemon: ready: " + summary, {{}, role_name(ctx->role), 0, {}});
        if (opts_.once) return Outcome::ok;
        return loop(*ctx, *monitor);
    }

  private:
    static Outcome fatal(const char* what, int err) {
        log_error(std::string("daemon: ") + what + ": " + errno_text(err), {{}, {}, err, {}});
        return Outcome::failed;
    }

    // Writes the deny list, loads the role's modules, in a child. False when a required one
    // failed or the loading did not finish within the deadline.
    bool apply(const Context& ctx, const char* when) {
        const bool ok = run_child(
            std::string(when) + ": module loading", [&] { return apply_here(ctx); },
            opts_.module_deadline + kChildMargin);
        if (!ok)
            notify("STATUS=" + std::string(when) +
                   ": a required module failed to load or did not finish in time (see the "
                   "journal)");
        return ok;
    }

    // Modules the policy denies that are loaded all the same (by an initramfs made before the
    // deny rule): unloaded when nothing uses them, and the admin told what to run.
    static void unload_denied(const Plan& plan, const std::string& role) {
        for (const PlanEntry& e : plan.modules) {
            if (!e.loaded_although_denied) continue;
            const int err = unload_unused_module(e.name);
            const LogFields fields{e.name, role, err, {}};
            const std::string head = e.name + ": " + e.reason;
            if (err == 0)
                log_warning(head + "; unloaded", fields);
            else if (err == EWOULDBLOCK || err == EBUSY)
                log_warning(head + "; in use, left loaded until the next boot", fields);
            else
                log_warning(head + "; cannot unload: " + errno_text(err), fields);
        }
    }

    // The child's half of apply().
    bool apply_here(const Context& ctx) const {
        const std::string role = role_name(ctx.role);
        const std::string deny_path = opts_.deny_path.empty() ? kDenyListPath : opts_.deny_path;
        if (!opts_.dry_run || !opts_.deny_path.empty()) {
            if (const auto err = write_deny_list_for(ctx, deny_path))
                log_warning("daemon: " + *err, {{}, role, 0, {}});
        }
        const Plan plan = make_plan_for(ctx);
        for (const std::string& w : plan.warnings) log_warning(w, {{}, role, 0, {}});
        LoadOptions lo;
        lo.jobs = opts_.jobs;
        lo.dry_run = opts_.dry_run;
        lo.deadline = opts_.module_deadline;
        const LoadReport rep = load_plan(ctx, plan, lo);
        log_load_report(rep);
        if (!opts_.dry_run) unload_denied(plan, role);
        // A timed-out load leaves workers stuck inside finit_module(): the child's exit
        // (with failure) ends them, the parent goes on.
        return rep.ok() && !rep.timed_out;
    }

    // Handles backend devices, each (alias, devpath) as the udev helper does, in one child.
    void handle(const Context& ctx,
                std::vector<std::pair<std::string, std::string>> devices) const {
        std::erase_if(devices, [](const auto& d) {
            if (const auto why = check_alias(d.first)) {
                log_warning("daemon: ignoring " + escape_text(d.second) + ": " + *why + ": " +
                            quote_text(d.first));
                return true;
            }
            return false;
        });
        if (devices.empty()) return;
        auto work = [&] {
            const KmodIndex index(ctx.root, ctx.kernel);
            BackendOptions bo;
            bo.role = ctx.role;
            bo.dry_run = opts_.dry_run;
            bo.deadline = opts_.module_deadline;
            const InserterFactory factory = kmod_inserter_factory(ctx.root, ctx.kernel);
            bool ok = true;
            for (const auto& [alias, devpath] : devices) {
                const BackendOutcome out =
                    handle_backend_request({alias, devpath}, ctx.policy, index, factory, bo);
                // A worker stuck in the kernel: leave; the child's exit ends it.
                if (out.timed_out) return false;
                ok = ok && out.ok();
            }
            return ok;
        };
        // Each request has its own module deadline inside the child.
        (void)run_child("backend device " + devices.front().second, work,
                        opts_.module_deadline * static_cast<long>(devices.size()) + kChildMargin);
    }

    void coldplug(const Context& ctx) const { handle(ctx, existing_backend_devices(opts_.root)); }

    void reload(Context& current) {
        notify("RELOADING=1\nSTATUS=reloading the policy");
        try {
            Context next = prepare(root_, std::nullopt, dirs_);
            (void)apply(next, "reload");
            current = std::move(next);
            log_info("daemon: policy reloaded", {{}, role_name(current.role), 0, {}});
        } catch (const std::exception& e) {
            // Keep the policy that works rather than none.
            log_error(std::string("daemon: reload failed, keeping the previous policy: ") +
                      e.what());
        }
        notify("READY=1\nSTATUS=" + std::string(role_name(current.role)) +
               ": watching backend devices");
    }

    Outcome loop(Context& ctx, UeventMonitor& monitor) {
        unsigned long dropped = 0;
        for (;;) {
            pollfd fds[2] = {{monitor.fd(), POLLIN, 0}, {sigfd_, POLLIN, 0}};
            // No timeout: idle means asleep in the kernel, no wake-ups.
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return fatal("poll", errno);
            }
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo si{};
                while (::read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                    if (si.ssi_signo == SIGHUP) {
                        reload(ctx);
                    } else {
                        notify("STOPPING=1");
                        log_info("daemon: stopping on signal " + std::to_string(si.ssi_signo));
                        return Outcome::ok;
                    }
                }
            }
            if (fds[0].revents & POLLIN) {
                for (;;) {
                    UeventMonitor::Received r = monitor.receive();
                    if (r.kind == UeventMonitor::Received::Kind::none) break;
                    if (r.kind == UeventMonitor::Received::Kind::dropped) {
                        // Rate-limited: a flood of forged messages must not flood the journal.
                        if (++dropped <= 10 || dropped % 1000 == 0)
                            log_warning("daemon: dropped uevent message #" +
                                        std::to_string(dropped) + ": " + r.why);
                        if (r.lost_events) coldplug(ctx);
                        continue;
                    }
                    const Uevent& ev = *r.event;
                    log_debug("daemon: kernel uevent " + escape_text(ev.action) + " " +
                              escape_text(ev.devpath) + " (" +
                              escape_text(ev.get("SUBSYSTEM").value_or("")) + ")");
                    if (ev.action != "add" ||
                        ev.get("SUBSYSTEM") != std::optional<std::string_view>("xen-backend"))
                        continue;
                    const auto alias = ev.get("MODALIAS");
                    if (!alias) continue;
                    handle(ctx, {{std::string(*alias), ev.devpath}});
                }
            } else if (fds[0].revents & (POLLERR | POLLHUP)) {
                return fatal("uevent socket", EIO);
            }
        }
    }

    DaemonOptions opts_;
    SysRoot root_;
    PolicyDirs dirs_;
    int sigfd_ = -1;
};

}  // namespace

Outcome run_daemon(const DaemonOptions& opts) {
    Daemon d(opts);
    return d.run();
}

}  // namespace xa
