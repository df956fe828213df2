#include "forked_task.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace xa {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(ForkedTask, ReturnsWhetherTheChildSucceeded) {
    EXPECT_TRUE(run_forked(
        "ok", [] { return true; }, milliseconds(5000)));
    EXPECT_FALSE(run_forked(
        "failed", [] { return false; }, milliseconds(5000)));
}

TEST(ForkedTask, TheWorkRunsInAnotherProcess) {
    const pid_t parent = ::getpid();
    EXPECT_TRUE(run_forked(
        "pid", [&] { return ::getpid() != parent; }, milliseconds(5000)));
    // A change made by the child stays in the child.
    int value = 1;
    (void)run_forked(
        "write",
        [&] {
            value = 2;
            return true;
        },
        milliseconds(5000));
    EXPECT_EQ(value, 1);
}

TEST(ForkedTask, AnExceptionIsAFailure) {
    EXPECT_FALSE(run_forked(
        "throw", []() -> bool { throw std::runtime_error("boom"); }, milliseconds(5000)));
}

TEST(ForkedTask, OverrunningTheDeadlineKillsTheChild) {
    const auto t0 = steady_clock::now();
    EXPECT_FALSE(run_forked(
        "sleep",
        [] {
            ::sleep(30);
            return true;
        },
        milliseconds(200)));
    EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace xa
