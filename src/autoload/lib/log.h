// Logging: one line per message on stderr, or the systemd journal with structured fields
// (MODULE=, XA_ROLE=, ERRNO=, XA_ERRNO_NAME=, XA_DEVICE=) when stderr is the journal stream
// of a systemd service, or the kernel log (/dev/kmsg) in an initramfs, where no journal
// runs yet. The fields let checks select lines without parsing message text: a boot check
// counts per backend device (XA_DEVICE=) how often the daemon handled it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xa {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

struct LogFields {
    std::string module;  // MODULE=
    std::string role;    // XA_ROLE=
    int err = 0;         // ERRNO= (positive errno), 0 for none
    // XA_DEVICE=: the kernel devpath of the backend device a message is about
    // ("/devices/xen-backend/vif-5-0"), set on every line handle_backend_request logs.
    std::string device;
};

// journal_stream: stderr lines that start with the "<N>" syslog priority, which journald
// parses on a service's stdout/stderr stream (SyslogLevelPrefix=, on by default). For
// processes that must not map libsystemd (the idle daemon) but still want priorities.
// kmsg: records in /dev/kmsg, which journald imports once it starts (SYSLOG_IDENTIFIER=
// xen-autoload), so what the initramfs loaded shows in `journalctl -b -t xen-autoload`.
enum class LogTarget { auto_detect, stderr_only, journal, journal_stream, kmsg };

// Optional; the first log call initialises with auto_detect. MAX drops more verbose levels.
// auto_detect takes XEN_AUTOLOAD_LOG_TARGET (auto, console, journal, kmsg) when it is set,
// else the journal when stderr is the journal stream, else stderr.
void log_init(LogTarget target = LogTarget::auto_detect, LogLevel max = LogLevel::info);
// The value of XEN_AUTOLOAD_LOG_TARGET; nullopt for an unknown one.
std::optional<LogTarget> parse_log_target(std::string_view value);
// One /dev/kmsg record: "<PRI>xen-autoload: MESSAGE\n", facility daemon. A record from
// user space with facility 0 would be rewritten to "user" by the kernel anyway.
std::string kmsg_record(LogLevel level, std::string_view message);
// True when JOURNAL_STREAM names the device:inode of our stderr (systemd's documented way
// to tell that stderr is connected to the journal).
bool stderr_is_journal();
LogTarget log_target();
LogLevel log_level();

// The journal entry of a message: MESSAGE=, PRIORITY=, the non-empty fields (ERRNO= and
// XA_ERRNO_NAME= when err != 0) and SYSLOG_IDENTIFIER=xen-autoload.
std::vector<std::string> journal_fields(LogLevel level, std::string_view message,
                                        const LogFields& fields);

void log(LogLevel level, std::string_view message, const LogFields& fields = {});
// Tests: every message at or below the level goes to SINK, with its fields, instead of the
// target; an empty SINK restores the target.
using LogSink = std::function<void(LogLevel, std::string_view, const LogFields&)>;
void log_set_test_sink(LogSink sink);
inline void log_error(std::string_view m, const LogFields& f = {}) { log(LogLevel::error, m, f); }
inline void log_warning(std::string_view m, const LogFields& f = {}) {
    log(LogLevel::warning, m, f);
}
inline void log_info(std::string_view m, const LogFields& f = {}) { log(LogLevel::info, m, f); }
inline void log_debug(std::string_view m, const LogFields& f = {}) { log(LogLevel::debug, m, f); }

}  // namespace xa
