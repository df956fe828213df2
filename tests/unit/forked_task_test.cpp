#include "forked_task.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "commands.h"

namespace xa {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(ForkedTask, ReturnsTheChildsExitStatus) {
    EXPECT_EQ(run_forked(
                  "ok", [] { return kExitOk; }, milliseconds(5000)),
              kExitOk);
    EXPECT_EQ(run_forked(
                  "usage", [] { return kExitUsage; }, milliseconds(5000)),
              kExitUsage);
}

TEST(ForkedTask, TheWorkRunsInAnotherProcess) {
    const pid_t parent = ::getpid();
    EXPECT_EQ(run_forked(
                  "pid", [&] { return ::getpid() == parent ? 7 : 0; }, milliseconds(5000)),
              0);
    // A change made by the child stays in the child.
    int value = 1;
    (void)run_forked(
        "write",
        [&] {
            value = 2;
            return 0;
        },
        milliseconds(5000));
    EXPECT_EQ(value, 1);
}

TEST(ForkedTask, AnExceptionIsAFailure) {
    EXPECT_EQ(run_forked(
                  "throw", []() -> int { throw std::runtime_error("boom"); }, milliseconds(5000)),
              kExitFailed);
}

TEST(ForkedTask, OverrunningTheDeadlineKillsTheChild) {
    const auto t0 = steady_clock::now();
    EXPECT_EQ(run_forked(
                  "sleep",
                  [] {
                      ::sleep(30);
                      return 0;
                  },
                  milliseconds(200)),
              kExitFailed);
    EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace xa
