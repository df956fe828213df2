#include "daemon.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <system_error>

#include "commands.h"
#include "deny_list.h"
#include "dynlib.h"
#include "engine.h"
#include "log.h"
#include "module_index.h"
#include "sysroot.h"
#include "udev_helper.h"
#include "uevent_monitor.h"

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
        std::string_view text = uevent.data;
        while (!text.empty()) {
            const auto nl = text.find('\n');
            const std::string_view line = text.substr(0, nl);
            if (line.starts_with("MODALIAS=")) alias = std::string(line.substr(9));
            text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        }
        if (alias.empty()) continue;
        // The bus lists symlinks into /sys/devices; the devpath is the link target without
        // its leading "../" steps.
        std::string devpath = "/devices/xen-backend/" + name;
        std::array<char, 512> buf{};
        const ssize_t n = ::readlink(root.path(link).c_str(), buf.data(), buf.size() - 1);
        if (n > 0) {
            std::string_view target(buf.data(), static_cast<std::size_t>(n));
            while (target.starts_with("../")) target.remove_prefix(3);
            if (target.starts_with("devices/")) devpath = "/" + std::string(target);
        }
        out.emplace_back(alias, devpath);
    }
    return out;
}

namespace {

// Everything one policy generation needs; rebuilt on SIGHUP.
struct State {
    Context ctx;
    std::unique_ptr<KmodIndex> index;
};

void notify(const std::string& text) {
    // No-op outside systemd (NOTIFY_SOCKET unset).
    (void)xa::notify(0, text.c_str());
}

class Daemon {
  public:
    explicit Daemon(const DaemonOptions& o) : opts_(o), root_(o.root) {
        dirs_ = default_policy_dirs();
        dirs_.vendor_override = o.vendor_dir;
    }

    int run() {
        // Signals first, then the socket, then the scan: an event that arrives while we
        // load is queued on the socket and handled after READY, never lost.
        sigset_t mask;
        sigemptyset(&mask);
        for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
        if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return fatal("sigprocmask", errno);
        sigfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd_ < 0) return fatal("signalfd", errno);

        std::optional<State> st;
        try {
            st = load_state();
        } catch (const ConfigError& e) {
            log_error(e.what());
            notify(std::string("STATUS=configuration error: ") + e.what());
            return kExitUsage;
        } catch (const std::exception& e) {
            log_error(std::string("daemon: ") + e.what());
            notify(std::string("STATUS=") + e.what());
            return kExitFailed;
        }
        if (st->ctx.platform.hypervisor == Hypervisor::none) {
            log_info("daemon: not running on Xen, nothing to do");
            notify("READY=1\nSTATUS=not running on Xen, nothing to do");
            return kExitOk;
        }

        std::unique_ptr<UeventMonitor> monitor;
        if (!opts_.once) {
            try {
                monitor = std::make_unique<UeventMonitor>(1);
                log_debug("daemon: listening for kernel uevents on netlink port " +
                          std::to_string(monitor->port()));
            } catch (const std::system_error& e) {
                log_error(std::string("daemon: ") + e.what(), {{}, {}, e.code().value()});
                return kExitFailed;
            }
        }

        const int rc = apply(*st, "start");
        if (rc != kExitOk) return rc;
        coldplug(*st);
        const std::string summary = std::string(role_name(st->ctx.role)) + ": " +
                                    std::to_string(loaded_) +
                                    " modules loaded or present, watching backend devices";
        notify("READY=1\nSTATUS=" + summary);
        log_info("daemon: ready: " + summary, {{}, role_name(st->ctx.role), 0});
        if (opts_.once) return kExitOk;
        return loop(*st, *monitor);
    }

  private:
    int fatal(const char* what, int err) {
        log_error(std::string("daemon: ") + what + ": " + errno_text(err), {{}, {}, err});
        return kExitFailed;
    }

    State load_state() {
        State s{prepare(root_, std::nullopt, dirs_), nullptr};
        s.index = std::make_unique<KmodIndex>(root_, s.ctx.kernel);
        return s;
    }

    // Writes the deny list, loads the role's modules. 0, or 1 when a required one failed.
    int apply(const State& s, const char* when) {
        const std::string role = role_name(s.ctx.role);
        const std::string deny_path = opts_.deny_path.empty() ? kDenyListPath : opts_.deny_path;
        if (!opts_.dry_run || !opts_.deny_path.empty()) {
            const std::string err =
                write_deny_list(deny_path, deny_list_text(s.ctx.policy, s.index.get()));
            if (!err.empty()) log_warning("daemon: " + err, {{}, role, 0});
        }
        const Plan plan = make_plan_for(s.ctx);
        for (const std::string& w : plan.warnings) log_warning(w, {{}, role, 0});
        LoadOptions lo;
        lo.jobs = opts_.jobs;
        lo.dry_run = opts_.dry_run;
        lo.deadline = opts_.module_deadline;
        const LoadReport rep = load_plan(s.ctx, plan, lo);
        log_load_report(rep);
        loaded_ = 0;
        for (const LoadResult& r : rep.results)
            if (r.status == LoadStatus::inserted || r.status == LoadStatus::present ||
                r.status == LoadStatus::would_load)
                ++loaded_;
        if (rep.timed_out) {
            // Workers are stuck inside finit_module(): no way to join them. Fail loudly and
            // let systemd see it rather than hang on.
            notify("STATUS=" + std::string(when) +
                   ": a module did not finish loading within the deadline");
            std::fflush(nullptr);
            std::_Exit(kExitFailed);
        }
        if (!rep.ok()) {
            notify("STATUS=" + std::string(when) +
                   ": a required module failed to load (see the journal)");
            return kExitFailed;
        }
        return kExitOk;
    }

    void handle(const State& s, const std::string& alias, const std::string& devpath) {
        if (const std::string why = check_alias(alias); !why.empty()) {
            log_warning("daemon: ignoring " + devpath + ": " + why + ": '" + alias + "'");
            return;
        }
        BackendOptions bo;
        bo.dry_run = opts_.dry_run;
        bo.deadline = opts_.module_deadline;
        (void)handle_backend_request({alias, devpath}, s.ctx.policy, *s.index,
                                     kmod_inserter_factory(s.ctx.root, s.ctx.kernel), bo);
    }

    void coldplug(const State& s) {
        for (const auto& [alias, devpath] : existing_backend_devices(opts_.root))
            handle(s, alias, devpath);
    }

    void reload(std::optional<State>& current) {
        notify("RELOADING=1\nSTATUS=reloading the policy");
        try {
            State next = load_state();
            (void)apply(next, "reload");
            *current = std::move(next);
            log_info("daemon: policy reloaded", {{}, role_name(current->ctx.role), 0});
        } catch (const std::exception& e) {
            // Keep the policy that works rather than none.
            log_error(std::string("daemon: reload failed, keeping the previous policy: ") +
                      e.what());
        }
        notify("READY=1\nSTATUS=" + std::string(role_name(current->ctx.role)) +
               ": watching backend devices");
    }

    int loop(State& initial, UeventMonitor& monitor) {
        std::optional<State> st(std::move(initial));
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
                        reload(st);
                    } else {
                        notify("STOPPING=1");
                        log_info("daemon: stopping on signal " + std::to_string(si.ssi_signo));
                        return kExitOk;
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
                        if (r.why == "receive queue overflowed") coldplug(*st);
                        continue;
                    }
                    const Uevent& ev = *r.event;
                    log_debug("daemon: kernel uevent " + ev.action + " " + ev.devpath + " (" +
                              std::string(ev.get("SUBSYSTEM").value_or("")) + ")");
                    if (ev.action != "add" ||
                        ev.get("SUBSYSTEM") != std::optional<std::string_view>("xen-backend"))
                        continue;
                    const auto alias = ev.get("MODALIAS");
                    if (!alias) continue;
                    handle(*st, std::string(*alias), ev.devpath);
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
    unsigned loaded_ = 0;
};

}  // namespace

int run_daemon(const DaemonOptions& opts) {
    Daemon d(opts);
    return d.run();
}

int cmd_daemon(int argc, char** argv) {
    enum {
        opt_root = 1000,
        opt_dry_run,
        opt_vendor_dir,
        opt_deny_file,
        opt_jobs,
        opt_deadline,
        opt_once,
        opt_debug,
        opt_help
    };
    static const option kLong[] = {
        {"root", required_argument, nullptr, opt_root},
        {"dry-run", no_argument, nullptr, opt_dry_run},
        {"vendor-dir", required_argument, nullptr, opt_vendor_dir},
        {"deny-file", required_argument, nullptr, opt_deny_file},
        {"jobs", required_argument, nullptr, opt_jobs},
        {"deadline", required_argument, nullptr, opt_deadline},
        {"once", no_argument, nullptr, opt_once},
        {"debug", no_argument, nullptr, opt_debug},
        {"help", no_argument, nullptr, opt_help},
        {nullptr, 0, nullptr, 0},
    };
    const char* synopsis =
        "daemon [--dry-run] [--root DIR] [--vendor-dir DIR] [--deny-file PATH] [--jobs N] "
        "[--deadline SECONDS] [--once] [--debug]";
    DaemonOptions o;
    auto number = [](const char* s, unsigned lo, unsigned hi) -> std::optional<unsigned> {
        unsigned v = 0;
        const std::string_view sv(s);
        const auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), v);
        if (ec != std::errc() || end != sv.data() + sv.size() || v < lo || v > hi)
            return std::nullopt;
        return v;
    };
    optind = 1;
    opterr = 0;
    for (;;) {
        const int c = getopt_long(argc, argv, "", kLong, nullptr);
        if (c == -1) break;
        switch (c) {
            case opt_root:
                o.root = optarg;
                break;
            case opt_dry_run:
                o.dry_run = true;
                break;
            case opt_vendor_dir:
                o.vendor_dir = optarg;
                break;
            case opt_deny_file:
                o.deny_path = optarg;
                break;
            case opt_once:
                o.once = true;
                break;
            case opt_debug:
                log_init(LogTarget::auto_detect, LogLevel::debug);
                break;
            case opt_jobs:
                if (const auto v = number(optarg, 1, 64)) {
                    o.jobs = *v;
                    break;
                }
                std::fprintf(stderr,
                             "xen-autoload daemon: --jobs: not a number from 1 to 64: '%s'\n",
                             optarg);
                return kExitUsage;
            case opt_deadline:
                if (const auto v = number(optarg, 1, 600)) {
                    o.module_deadline = std::chrono::seconds(*v);
                    break;
                }
                std::fprintf(stderr,
                             "xen-autoload daemon: --deadline: not a number of seconds from 1 to "
                             "600: '%s'\n",
                             optarg);
                return kExitUsage;
            case opt_help:
                std::printf("usage: xen-autoload %s\n", synopsis);
                return kExitOk;
            default:
                std::fprintf(stderr,
                             "xen-autoload daemon: unknown option '%s' (usage: xen-autoload %s)\n",
                             argv[optind - 1], synopsis);
                return kExitUsage;
        }
    }
    if (optind != argc) {
        std::fprintf(stderr,
                     "xen-autoload daemon: unexpected argument '%s' (usage: xen-autoload %s)\n",
                     argv[optind], synopsis);
        return kExitUsage;
    }
    if (!o.root.empty() && !o.dry_run) {
        log_error("daemon under --root " + o.root +
                  " only with --dry-run: modules go into the running kernel");
        return kExitNotPermitted;
    }
    if (!o.dry_run && ::geteuid() != 0) {
        log_error("daemon: needs root (CAP_SYS_MODULE); use --dry-run");
        return kExitNotPermitted;
    }
    return run_daemon(o);
}

}  // namespace xa
