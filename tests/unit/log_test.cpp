#include "log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
              {"xen_pciback", "dom0", 19, {}});
    log_warning("w");
    log_info("i");
    log_debug("not shown at level info");
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(out,
              "xen-autoload: error: xen-pciback: No such device (ENODEV): not the initial domain\n"
              "xen-autoload: warning: w\nxen-autoload: i\n");
}

// The journal entry: only the fields that are set, XA_DEVICE= among them (a boot check
// counts the daemon's lines per backend device by it).
TEST(Log, JournalFieldsAreTheSetOnes) {
    EXPECT_EQ(
        journal_fields(LogLevel::info, "m", {}),
        (std::vector<std::string>{"MESSAGE=m", "PRIORITY=6", "SYSLOG_IDENTIFIER=xen-autoload"}));
    EXPECT_EQ(journal_fields(LogLevel::error, "xen-netback: failed",
                             {"xen_netback", "dom0", 19, "/devices/xen-backend/vif-5-0"}),
              (std::vector<std::string>{
                  "MESSAGE=xen-netback: failed", "PRIORITY=3", "MODULE=xen_netback", "XA_ROLE=dom0",
                  "ERRNO=19", "XA_ERRNO_NAME=ENODEV", "XA_DEVICE=/devices/xen-backend/vif-5-0",
                  "SYSLOG_IDENTIFIER=xen-autoload"}));
}

TEST(Log, TestSinkGetsMessagesWithTheirFields) {
    log_init(LogTarget::stderr_only, LogLevel::info);
    std::vector<std::pair<std::string, LogFields>> got;
    log_set_test_sink([&](LogLevel, std::string_view m, const LogFields& f) {
        got.emplace_back(std::string(m), f);
    });
    ::testing::internal::CaptureStderr();
    log_info("i", {{}, {}, 0, "/devices/vbd-1-768"});
    log_debug("not at level info");
    const std::string out = ::testing::internal::GetCapturedStderr();
    log_set_test_sink({});
    EXPECT_EQ(out, "");
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].first, "i");
    EXPECT_EQ(got[0].second.device, "/devices/vbd-1-768");
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

TEST(Log, KmsgRecordsCarryDaemonFacilityAndLevel) {
    // journald imports user-space kmsg records with facility != kernel and takes the
    // "xen-autoload:" tag as SYSLOG_IDENTIFIER: LOG_DAEMON (24) + level.
    EXPECT_EQ(kmsg_record(LogLevel::info, "xen-netback: loaded as xen_netback"),
              "<30>xen-autoload: xen-netback: loaded as xen_netback\n");
    EXPECT_EQ(kmsg_record(LogLevel::error, "e"), "<27>xen-autoload: error: e\n");
    EXPECT_EQ(kmsg_record(LogLevel::warning, "w"), "<28>xen-autoload: warning: w\n");
}

TEST(Log, LogTargetFromTheEnvironment) {
    EXPECT_EQ(parse_log_target("kmsg"), LogTarget::kmsg);
    EXPECT_EQ(parse_log_target("console"), LogTarget::stderr_only);
    EXPECT_EQ(parse_log_target("journal"), LogTarget::journal);
    EXPECT_EQ(parse_log_target("auto"), LogTarget::auto_detect);
    EXPECT_EQ(parse_log_target("KMSG"), std::nullopt);
    EXPECT_EQ(parse_log_target(""), std::nullopt);

    ::unsetenv("JOURNAL_STREAM");
    ::setenv("XEN_AUTOLOAD_LOG_TARGET", "kmsg", 1);
    log_init();
    EXPECT_EQ(log_target(), LogTarget::kmsg);
    // Unknown: one warning naming the variable and value, then what auto would pick.
    ::setenv("XEN_AUTOLOAD_LOG_TARGET", "syslog", 1);
    ::testing::internal::CaptureStderr();
    log_init();
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(log_target(), LogTarget::stderr_only);
    EXPECT_EQ(out,
              "xen-autoload: warning: XEN_AUTOLOAD_LOG_TARGET: unknown value 'syslog' "
              "(auto, console, journal, kmsg): using auto\n");
    ::unsetenv("XEN_AUTOLOAD_LOG_TARGET");
    log_init(LogTarget::stderr_only, LogLevel::info);
}

}  // namespace
}  // namespace xa
