#include "log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace xa {
namespace {

TEST(Log, JournalStreamMustNameOurStderr) {
    struct stat st {};
    ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    EXPECT_TRUE(stderr_is_journal());
    // Inherited from a parent whose stderr was the journal, ours is not: stay on stderr.
    ::setenv("JOURNAL_STREAM",
             (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
    EXPECT_FALSE(stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    EXPECT_FALSE(stderr_is_journal());
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(stderr_is_journal());
}

TEST(Log, StderrLinesCarryLevelAndMessage) {
    log_init(LogTarget::stderr_only, LogLevel::info);
    ::testing::internal::CaptureStderr();
    log_error("xen-pciback: No such device (ENODEV): not the initial domain",
              {"xen_pciback", "dom0", 19});
    log_warning("w");
    log_info("i");
    log_debug("not shown at level info");
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(out,
              "xen-autoload: error: xen-pciback: No such device (ENODEV): not the initial domain\n"
              "xen-autoload: warning: w\nxen-autoload: i\n");
}

TEST(Log, JournalStreamLinesStartWithTheSyslogPriority) {
    // journald reads "<N>" at the start of a stream line as the priority (SyslogLevelPrefix=).
    log_init(LogTarget::journal_stream, LogLevel::info);
    ::testing::internal::CaptureStderr();
    log_error("e");
    log_info("i");
    const std::string out = ::testing::internal::GetCapturedStderr();
    log_init(LogTarget::stderr_only, LogLevel::info);
    EXPECT_EQ(out, "<3>xen-autoload: error: e\n<6>xen-autoload: i\n");
}

}  // namespace
}  // namespace xa
