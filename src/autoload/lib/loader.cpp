#include "loader.h"

#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "dynlib.h"
#include "log.h"
#include "module_index.h"
#include "sysfs_parse.h"
#include "sysroot.h"
#include "text_escape.h"

namespace xa {
namespace {

// libkmod's run_install callback: runs a modprobe.d "install" command as libkmod itself
// would (/bin/sh -c CMD with MODPROBE_MODULE=<name>), but records how it ended, so a
// failure is reported as the command's and not as an errno. posix_spawn with its own
// environment: libkmod's setenv() is not safe with the loader's parallel workers.
int run_install_command(kmod_module* m, const char* cmdline, void* data) {
    auto* out = static_cast<InsertOutcome*>(data);
    const char* name = kmod().module_get_name(m);
    std::string module_env = std::string("MODPROBE_MODULE=") + (name != nullptr ? name : "");
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        if (std::strncmp(*e, "MODPROBE_MODULE=", 16) != 0 && std::strncmp(*e, "KMOD_LOG=", 9) != 0)
            envp.push_back(*e);
    envp.push_back(module_env.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c", cmd = cmdline;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data());
    auto failed = [&](int status, int sig) {
        out->install_failed = true;
        out->install_command = cmdline;
        out->install_status = status;
        out->install_signal = sig;
        return -EINVAL;  // passed on by libkmod as the probe's result
    };
    if (rc != 0) return failed(-1, 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return failed(-1, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    return failed(WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

class KmodInserter final : public Inserter {
  public:
    KmodInserter(const SysRoot& root, const std::string& kver)
        : ctx_(new_kmod_context(root, kver)) {}
    ~KmodInserter() override { kmod().unref(ctx_); }
    KmodInserter(const KmodInserter&) = delete;
    KmodInserter& operator=(const KmodInserter&) = delete;

    InsertOutcome insert(const std::string& module) override {
        InsertOutcome out;
        kmod_module* mod = nullptr;
        int r = kmod().module_new_from_name(ctx_, module.c_str(), &mod);
        if (r < 0) {
            out.err = -r;
            return out;
        }
        r = kmod().module_probe_insert_module(mod,
                                              KMOD_PROBE_APPLY_BLACKLIST | KMOD_PROBE_IGNORE_LOADED,
                                              nullptr, run_install_command, &out, nullptr);
        kmod().module_unref(mod);
        if (out.install_failed) {
            out.err = r < 0 ? -r : EINVAL;
        } else if (r < 0) {
            // EEXIST: a parallel worker or udev got there first: the module is present.
            out.err = (r == -EEXIST) ? 0 : -r;
        } else if (r > 0) {
            out.blacklisted = true;  // KMOD_PROBE_APPLY_BLACKLIST*: refused by modprobe.d
        }
        return out;
    }

  private:
    kmod_ctx* ctx_;
};

struct Node {
    std::size_t plan_index;
    std::vector<std::size_t> waits_for;  // other nodes that must finish first
    bool started = false;
    bool done = false;
    bool failed = false;
};

}  // namespace

InserterFactory kmod_inserter_factory(const SysRoot& root, const std::string& kver) {
    return [root, kver]() -> std::unique_ptr<Inserter> {
        return std::make_unique<KmodInserter>(root, kver);
    };
}

bool module_insertion_simulated() {
    static const bool shim = ::dlsym(RTLD_DEFAULT, "xa_testsuite_insertion_shim") != nullptr;
    return shim;
}

const char* load_status_name(LoadStatus s) {
    switch (s) {
        case LoadStatus::inserted:
            return "loaded";
        case LoadStatus::present:
            return "present";
        case LoadStatus::skipped:
            return "skipped";
        case LoadStatus::failed:
            return "failed";
        case LoadStatus::would_load:
            return "would-load";
    }
    return "failed";
}

std::string install_failure_text(const InsertOutcome& out) {
    std::string text = "install command " + quote_text(out.install_command, 160) + " failed";
    if (out.install_status >= 0)
        text += " with exit status " + std::to_string(out.install_status);
    else if (out.install_signal != 0)
        text += " (killed by signal " + std::to_string(out.install_signal) + ")";
    return text;
}

std::string explain_errno(const std::string& module, int err) {
    const std::string n = normalize_module_name(module);
    switch (err) {
        case ENODEV:
            if (n == "xen_pciback") return "not the initial domain";
            // In dom0 too when the firmware gives no processor performance or idle data
            // (_PSS/_CST) to hand to Xen, as under QEMU.
            if (n == "xen_acpi_processor")
                return "not the initial domain, or no ACPI processor data to hand to Xen";
            return "not running on Xen";
        case ENOENT:
            return "module file or a dependency not found";
        case ENOEXEC:
            return "invalid module format (built for another kernel?)";
        case EPERM:
            return "not permitted (needs CAP_SYS_MODULE; module signature or lockdown?)";
        case EKEYREJECTED:
        case EKEYEXPIRED:
            return "module signature rejected";
        case ENOSYS:
            return "the kernel does not support modules";
        case EBUSY:
            return "device busy";
        case EINVAL:
            return "invalid parameters or unknown symbol (see dmesg)";
        default:
            return "see dmesg";
    }
}

bool LoadReport::ok() const {
    return pci_hide.ok() && std::none_of(results.begin(), results.end(),
                                         [](const LoadResult& r) { return r.counts_as_failure; });
}

LoadReport execute_plan(const Plan& plan, const InserterFactory& factory, const LoadOptions& opts) {
    LoadReport report;
    report.role = plan.role;
    report.kernel = plan.kernel;
    report.results.resize(plan.modules.size());

    std::vector<Node> nodes;
    std::map<std::string, std::size_t> node_of;  // module name -> node
    for (std::size_t i = 0; i < plan.modules.size(); ++i) {
        const PlanEntry& e = plan.modules[i];
        LoadResult& r = report.results[i];
        r.requested = e.requested;
        r.name = e.name;
        r.optional = e.optional;
        if (e.action == Action::load) {
            if (opts.dry_run) {
                r.status = LoadStatus::would_load;
                r.message = e.requested + ": would load " + e.name + " (" + e.reason + ")";
                continue;
            }
            node_of[e.name] = nodes.size();
            nodes.push_back({i, {}, false, false, false});
            continue;
        }
        const bool present = is_present(e.state);
        r.status = present ? LoadStatus::present : LoadStatus::skipped;
        r.counts_as_failure = e.failure;
        r.warn = e.warn;
        // A present module's reason says it all ("already loaded", "built into the kernel").
        r.message =
            e.requested + ": " +
            (present ? e.reason : module_state_name(e.state) + std::string(", ") + e.reason);
    }
    // A module waits for every planned module in its dependency closure.
    for (Node& n : nodes) {
        for (const std::string& d : plan.modules[n.plan_index].deps) {
            if (const auto it = node_of.find(d); it != node_of.end())
                n.waits_for.push_back(it->second);
        }
    }

    if (!nodes.empty()) {
        unsigned jobs = opts.jobs;
        if (jobs == 0) jobs = std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
        jobs = std::min<unsigned>(jobs, static_cast<unsigned>(nodes.size()));

        // Shared state lives on the heap: after a deadline, workers stuck in the kernel are
        // detached and may outlive this function.
        struct Shared {
            std::mutex lock;
            std::condition_variable changed;
            std::vector<Node> nodes;
            std::vector<LoadResult> results;
            std::size_t remaining = 0;
            unsigned running_workers = 0;
            std::vector<PlanEntry> entries;  // a copy: detached workers never see the caller's plan
        };
        auto sh = std::make_shared<Shared>();
        sh->nodes = std::move(nodes);
        sh->results = report.results;
        sh->remaining = sh->nodes.size();
        sh->entries = plan.modules;

        auto worker = [sh, factory]() {
            std::unique_ptr<Inserter> inserter;
            std::unique_lock lk(sh->lock);
            for (;;) {
                // Pick a node whose prerequisites are done; fail those whose prerequisite failed.
                Node* pick = nullptr;
                bool any_pending = false;
                for (Node& n : sh->nodes) {
                    if (n.started) continue;
                    any_pending = true;
                    bool ready = true;
                    std::string failed_dep;
                    for (const std::size_t w : n.waits_for) {
                        const Node& other = sh->nodes[w];
                        if (!other.done)
                            ready = false;
                        else if (other.failed)
                            failed_dep = sh->entries[other.plan_index].name;
                    }
                    if (!failed_dep.empty()) {
                        // Its dependency already failed: trying again would only repeat it.
                        n.started = n.done = n.failed = true;
                        LoadResult& r = sh->results[n.plan_index];
                        r.status = LoadStatus::failed;
                        r.counts_as_failure = !r.optional;
                        r.message =
                            r.requested + ": not attempted: dependency " + failed_dep + " failed";
                        --sh->remaining;
                        sh->changed.notify_all();
                        continue;
                    }
                    if (ready) {
                        pick = &n;
                        break;
                    }
                }
                if (pick == nullptr) {
                    if (!any_pending) break;
                    sh->changed.wait(lk);
                    continue;
                }
                pick->started = true;
                const PlanEntry& e = sh->entries[pick->plan_index];
                lk.unlock();
                const auto t0 = std::chrono::steady_clock::now();
                InsertOutcome out;
                try {
                    if (!inserter) inserter = factory();
                    out = inserter->insert(e.name);
                } catch (const std::exception& ex) {
                    log_error(std::string("loader: ") + ex.what(), {e.name, {}, ENOMEM, {}});
                    out.err = ENOMEM;
                }
                const auto t1 = std::chrono::steady_clock::now();
                lk.lock();
                LoadResult& r = sh->results[pick->plan_index];
                r.milliseconds = std::chrono::duration<double, std::milli>(t1 - t0).count();
                if (out.blacklisted) {
                    r.status = LoadStatus::skipped;
                    r.message = e.requested + ": blacklisted in modprobe.d, not loaded";
                    r.counts_as_failure = false;
                    pick->failed = true;
                } else if (out.install_failed) {
                    r.status = LoadStatus::failed;
                    r.err = out.err;
                    r.counts_as_failure = !e.optional;
                    r.message = e.requested + ": " + install_failure_text(out);
                    pick->failed = true;
                } else if (out.err != 0) {
                    r.status = LoadStatus::failed;
                    r.err = out.err;
                    r.counts_as_failure = !e.optional;
                    r.message = e.requested + ": " + errno_text(out.err) + ": " +
                                explain_errno(e.name, out.err);
                    pick->failed = true;
                } else {
                    r.status = LoadStatus::inserted;
                    r.message = e.requested + ": loaded" +
                                (e.requested != e.name ? " as " + e.name : std::string());
                }
                pick->done = true;
                --sh->remaining;
                sh->changed.notify_all();
            }
            --sh->running_workers;
            sh->changed.notify_all();
        };

        std::vector<std::thread> threads;
        {
            std::lock_guard g(sh->lock);
            sh->running_workers = jobs;
        }
        for (unsigned i = 0; i < jobs; ++i) threads.emplace_back(worker);
        std::unique_lock lk(sh->lock);
        const bool finished = sh->changed.wait_for(
            lk, opts.deadline, [&] { return sh->remaining == 0 && sh->running_workers == 0; });
        if (!finished) {
            for (Node& n : sh->nodes) {
                if (n.done) continue;
                n.started = n.done = n.failed = true;  // stops the others picking it up
                LoadResult& r = sh->results[n.plan_index];
                r.status = LoadStatus::failed;
                r.err = ETIMEDOUT;
                r.counts_as_failure = !r.optional;
                r.message = r.requested + ": " + errno_text(ETIMEDOUT) + ": no answer within " +
                            std::to_string(opts.deadline.count() / 1000) + " s";
            }
            report.timed_out = true;
        }
        report.results = sh->results;
        lk.unlock();
        for (std::thread& t : threads) {
            if (finished)
                t.join();
            else
                t.detach();  // stuck in the kernel: the caller exits without waiting
        }
    }
    return report;
}

}  // namespace xa
