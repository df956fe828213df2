#include "loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "fake_index.h"

namespace xa {
namespace {

// Records insert order and the peak number of concurrent inserts; fails chosen modules.
// With rendezvous = N, each of the first inserts waits (up to 10 s) until N run at once:
// a parallel loader always gets there, however the threads are scheduled, and a serial one
// never does (peak stays 1), so parallelism is tested without timing assumptions.
struct Recorder {
    std::mutex lock;
    std::condition_variable changed;
    std::vector<std::string> order;
    std::map<std::string, int> fail_with;
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    std::atomic<int> inserters{0};
    std::atomic<int> shared_across_threads{0};  // inserters used by more than one thread
    int rendezvous = 0;
    bool stuck = false;     // inserts block until released (or 30 s): a kernel that hangs
    bool released = false;  // guarded by lock
    std::chrono::milliseconds hold{20};
};

class FakeInserter final : public Inserter {
  public:
    explicit FakeInserter(Recorder& r, std::shared_ptr<Recorder> keep = {})
        : r_(r), keep_(std::move(keep)) {
        ++r_.inserters;
    }
    InsertOutcome insert(const std::string& module) override {
        if (owner_ == std::thread::id())
            owner_ = std::this_thread::get_id();
        else if (owner_ != std::this_thread::get_id())
            ++r_.shared_across_threads;
        const int now = ++r_.running;
        int p = r_.peak.load();
        while (now > p && !r_.peak.compare_exchange_weak(p, now)) {
        }
        if (r_.rendezvous > 0) {
            std::unique_lock lk(r_.lock);
            r_.changed.notify_all();
            r_.changed.wait_for(lk, std::chrono::seconds(10),
                                [this] { return r_.peak.load() >= r_.rendezvous; });
        }
        if (r_.stuck) {
            std::unique_lock lk(r_.lock);
            r_.changed.wait_for(lk, std::chrono::seconds(30), [this] { return r_.released; });
        }
        std::this_thread::sleep_for(r_.hold);
        InsertOutcome out;
        {
            std::lock_guard g(r_.lock);
            r_.order.push_back(module);
            if (const auto it = r_.fail_with.find(module); it != r_.fail_with.end())
                out.err = it->second;
        }
        --r_.running;
        return out;
    }

  private:
    Recorder& r_;
    std::shared_ptr<Recorder> keep_;  // keeps R alive for workers that outlive the test
    std::thread::id owner_;           // the thread that used this inserter first
};

InserterFactory factory_for(Recorder& r) {
    return [&r] { return std::make_unique<FakeInserter>(r); };
}

Plan dom0_plan() {
    test::FakeIndex ix;
    for (const char* m : {"xen_evtchn", "xen_gntdev", "xen_gntalloc", "xen_privcmd", "xenfs",
                          "xen_netback", "xen_blkback", "xen_pciback"})
        ix.states[m] = ModuleState::loadable;
    ix.deps["xenfs"] = {"xen_privcmd"};
    Policy pol;
    parse_policy(
        "require dom0 xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback "
        "xen-netback\n"
        "optional dom0 xen-pciback\n",
        "t.conf", pol);
    pol.files.push_back("t.conf");
    return make_plan(Role::dom0, pol, ix);
}

std::size_t pos(const std::vector<std::string>& v, const std::string& s) {
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}

// The contract, not one schedule: every module inserted exactly once, dependencies first,
// inserts really parallel but never more than --jobs at once, and at most one inserter (one
// libkmod context) per worker, never shared between threads. How many workers get to create
// one depends on the scheduler: under load a worker may find the queue empty first.
TEST(Loader, DependenciesFirstIndependentOnesInParallel) {
    Recorder r;
    r.rendezvous = 2;
    const Plan plan = dom0_plan();
    const LoadReport rep = execute_plan(plan, factory_for(r), {4, false, std::chrono::seconds(30)});
    std::vector<std::string> sorted = r.order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted,
              (std::vector<std::string>{"xen_blkback", "xen_evtchn", "xen_gntalloc", "xen_gntdev",
                                        "xen_netback", "xen_pciback", "xen_privcmd", "xenfs"}));
    EXPECT_LT(pos(r.order, "xen_privcmd"), pos(r.order, "xenfs"));  // xenfs listed first, waits
    EXPECT_GE(r.peak.load(), 2);                                    // really parallel
    EXPECT_LE(r.peak.load(), 4);
    EXPECT_GE(r.inserters.load(), r.peak.load());  // concurrent inserts, separate inserters
    EXPECT_LE(r.inserters.load(), 4);              // at most one per worker
    EXPECT_EQ(r.shared_across_threads.load(), 0);
    EXPECT_TRUE(rep.ok());
    EXPECT_TRUE(rep.ok());
    for (const LoadResult& res : rep.results)
        EXPECT_EQ(res.status, LoadStatus::inserted) << res.message;
}

TEST(Loader, OneJobIsSerial) {
    Recorder r;
    r.hold = std::chrono::milliseconds(1);
    const LoadReport rep =
        execute_plan(dom0_plan(), factory_for(r), {1, false, std::chrono::seconds(30)});
    EXPECT_EQ(r.peak.load(), 1);
    EXPECT_EQ(r.inserters.load(), 1);  // one worker: one inserter, whatever the schedule
    EXPECT_EQ(r.order.size(), 8U);
    EXPECT_TRUE(rep.ok());
}

TEST(Loader, OptionalFailureIsAWarningRequiredFailureExitsOne) {
    Recorder r;
    r.hold = std::chrono::milliseconds(1);
    r.fail_with["xen_pciback"] = ENODEV;
    LoadReport rep =
        execute_plan(dom0_plan(), factory_for(r), {2, false, std::chrono::seconds(30)});
    EXPECT_TRUE(rep.ok());
    bool seen = false;
    for (const LoadResult& res : rep.results) {
        if (res.name != "xen_pciback") continue;
        seen = true;
        EXPECT_EQ(res.status, LoadStatus::failed);
        EXPECT_EQ(res.message, "xen-pciback: No such device (ENODEV): not the initial domain");
    }
    EXPECT_TRUE(seen);

    Recorder r2;
    r2.hold = std::chrono::milliseconds(1);
    r2.fail_with["xen_privcmd"] = ENODEV;
    rep = execute_plan(dom0_plan(), factory_for(r2), {2, false, std::chrono::seconds(30)});
    EXPECT_FALSE(rep.ok());
    EXPECT_FALSE(rep.ok());
    // xenfs depends on the failed xen-privcmd: not attempted.
    EXPECT_EQ(pos(r2.order, "xenfs"), r2.order.size());
    EXPECT_EQ(rep.results[0].message, "xenfs: not attempted: dependency xen_privcmd failed");
}

TEST(Loader, DryRunInsertsNothing) {
    Recorder r;
    const LoadReport rep =
        execute_plan(dom0_plan(), factory_for(r), {2, true, std::chrono::seconds(30)});
    EXPECT_TRUE(r.order.empty());
    EXPECT_EQ(r.inserters.load(), 0);
    for (const LoadResult& res : rep.results) EXPECT_EQ(res.status, LoadStatus::would_load);
}

// The inserts hang until the test has its report (not a sleep that a loaded machine could
// outlast the deadline with): every module is reported as timed out.
TEST(Loader, DeadlineReportsStuckModules) {
    auto r = std::make_shared<Recorder>();
    r->stuck = true;
    r->hold = std::chrono::milliseconds(0);
    const InserterFactory factory = [r] { return std::make_unique<FakeInserter>(*r, r); };
    const LoadReport rep =
        execute_plan(dom0_plan(), factory, {8, false, std::chrono::milliseconds(200)});
    {
        std::lock_guard g(r->lock);
        r->released = true;
    }
    r->changed.notify_all();
    EXPECT_TRUE(rep.timed_out);
    EXPECT_FALSE(rep.ok());
    EXPECT_EQ(rep.results[1].err, ETIMEDOUT);
    EXPECT_NE(rep.results[1].message.find("no answer within"), std::string::npos);
    for (const LoadResult& res : rep.results) EXPECT_EQ(res.err, ETIMEDOUT) << res.message;
    // No wait here: the workers still in insert() own the recorder (shared_ptr).
}

TEST(Loader, ErrnoExplanations) {
    EXPECT_EQ(explain_errno("xen-acpi-processor", ENODEV),
              "not the initial domain, or no ACPI processor data to hand to Xen");
    EXPECT_EQ(explain_errno("xen-evtchn", ENODEV), "not running on Xen");
    EXPECT_NE(explain_errno("xen-evtchn", ENOEXEC).find("another kernel"), std::string::npos);
}

// A failed modprobe.d "install" command is named as such, not as the errno libkmod
// returns for it ("Invalid argument (EINVAL): invalid parameters or unknown symbol").
TEST(Loader, FailedInstallCommandIsNamed) {
    class InstallFails final : public Inserter {
      public:
        InsertOutcome insert(const std::string&) override {
            InsertOutcome out;
            out.err = EINVAL;
            out.install_failed = true;
            out.install_command = "/sbin/modprobe --ignore-install xen-netback && /bin/false";
            out.install_status = 1;
            return out;
        }
    };
    const Plan plan = dom0_plan();
    const LoadReport rep = execute_plan(plan, [] { return std::make_unique<InstallFails>(); },
                                        {1, false, std::chrono::seconds(30)});
    const auto it = std::find_if(rep.results.begin(), rep.results.end(), [](const LoadResult& x) {
        return x.status == LoadStatus::failed &&
               x.message.find("not attempted") == std::string::npos;
    });
    ASSERT_NE(it, rep.results.end());
    const LoadResult& r = *it;
    EXPECT_EQ(r.message.find("EINVAL"), std::string::npos);
    EXPECT_EQ(r.message, r.requested +
                             ": install command '/sbin/modprobe --ignore-install xen-netback && "
                             "/bin/false' failed with exit status 1");
    InsertOutcome killed;
    killed.install_failed = true;
    killed.install_command = "x";
    killed.install_signal = 9;
    EXPECT_EQ(install_failure_text(killed), "install command 'x' failed (killed by signal 9)");
}

TEST(Loader, PresentModuleMessageSaysItOnce) {
    Plan plan;
    PlanEntry e;
    e.requested = "xen-evtchn";
    e.name = "xen_evtchn";
    e.state = ModuleState::loaded;
    e.reason = "already loaded";
    plan.modules.push_back(e);
    e.requested = "xenbus";
    e.state = ModuleState::builtin;
    e.reason = "built into the kernel";
    plan.modules.push_back(e);
    Recorder r;
    const LoadReport rep = execute_plan(plan, factory_for(r), {1, false, std::chrono::seconds(5)});
    EXPECT_EQ(rep.results[0].message, "xen-evtchn: already loaded");
    EXPECT_EQ(rep.results[1].message, "xenbus: built into the kernel");
}

}  // namespace
}  // namespace xa
