#include "log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "dynlib.h"
#include "sysroot.h"

namespace xa {
namespace {

struct LogState {
    bool initialised = false;
    LogTarget target = LogTarget::stderr_only;
    LogLevel max = LogLevel::info;
    std::mutex lock;  // loader workers log concurrently: keep lines whole
    LogSink sink;     // tests
};

LogState& state() {
    static LogState s;  // function-local: no work at program start
    return s;
}

const char* level_prefix(LogLevel l) {
    switch (l) {
        case LogLevel::error:
            return "error: ";
        case LogLevel::warning:
            return "warning: ";
        default:
            return "";
    }
}

// The kernel rate-limits /dev/kmsg writers per open file (10 records per 5 s by default):
// a fresh open per record keeps a load of a dozen modules from losing lines.
bool write_kmsg(const std::string& record) {
    const int fd = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return false;
    const ssize_t n = ::write(fd, record.data(), record.size());
    ::close(fd);
    return n == static_cast<ssize_t>(record.size());
}

LogTarget target_from_environment() {
    const char* value = std::getenv("XEN_AUTOLOAD_LOG_TARGET");
    if (value != nullptr && *value != '\0') {
        const auto t = parse_log_target(value);
        if (t && *t != LogTarget::auto_detect) return *t;
        // Logging must never stop a boot: say so once and carry on as if unset.
        if (!t)
            std::fprintf(stderr,
                         "xen-autoload: warning: XEN_AUTOLOAD_LOG_TARGET: unknown value '%s' "
                         "(auto, console, journal, kmsg): using auto\n",
                         value);
    }
    return stderr_is_journal() ? LogTarget::journal : LogTarget::stderr_only;
}

}  // namespace

std::optional<LogTarget> parse_log_target(std::string_view value) {
    if (value == "auto") return LogTarget::auto_detect;
    if (value == "console") return LogTarget::stderr_only;
    if (value == "journal") return LogTarget::journal;
    if (value == "kmsg") return LogTarget::kmsg;
    return std::nullopt;
}

std::string kmsg_record(LogLevel level, std::string_view message) {
    std::string record = "<" + std::to_string(LOG_DAEMON | static_cast<int>(level)) + ">";
    record += "xen-autoload: ";
    record += level_prefix(level);
    record += message;
    record += '\n';
    return record;
}

bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (js == nullptr) return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

void log_init(LogTarget target, LogLevel max) {
    LogState& s = state();
    std::lock_guard g(s.lock);
    if (target == LogTarget::auto_detect) target = target_from_environment();
    s.target = target;
    s.max = max;
    s.initialised = true;
}

LogTarget log_target() {
    LogState& s = state();
    if (!s.initialised) log_init();
    return s.target;
}

LogLevel log_level() {
    LogState& s = state();
    if (!s.initialised) log_init();
    return s.max;
}

std::vector<std::string> journal_fields(LogLevel level, std::string_view message,
                                        const LogFields& fields) {
    std::vector<std::string> entry;
    entry.push_back("MESSAGE=" + std::string(message));
    entry.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    // sd_journal_sendv takes only the fields we have; empty ones are left out.
    if (!fields.module.empty()) entry.push_back("MODULE=" + fields.module);
    if (!fields.role.empty()) entry.push_back("XA_ROLE=" + fields.role);
    if (fields.err != 0) {
        entry.push_back("ERRNO=" + std::to_string(fields.err));
        entry.push_back("XA_ERRNO_NAME=" + errno_name(fields.err));
    }
    if (!fields.device.empty()) entry.push_back("XA_DEVICE=" + fields.device);
    entry.emplace_back("SYSLOG_IDENTIFIER=xen-autoload");
    return entry;
}

void log_set_test_sink(LogSink sink) {
    LogState& s = state();
    std::lock_guard g(s.lock);
    s.sink = std::move(sink);
}

void log(LogLevel level, std::string_view message, const LogFields& fields) {
    LogState& s = state();
    if (!s.initialised) log_init();
    if (static_cast<int>(level) > static_cast<int>(s.max)) return;
    std::lock_guard g(s.lock);
    if (s.sink) {
        s.sink(level, message, fields);
        return;
    }
    if (s.target == LogTarget::journal) {
        const std::vector<std::string> entry = journal_fields(level, message, fields);
        std::vector<iovec> iov(entry.size());
        for (std::size_t i = 0; i < entry.size(); ++i) {
            iov[i].iov_base = const_cast<char*>(entry[i].data());
            iov[i].iov_len = entry[i].size();
        }
        if (journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
        // The journal is gone (shutdown, initramfs): fall through to stderr.
    }
    // No /dev/kmsg (a container, a test): stderr still gets the line.
    if (s.target == LogTarget::kmsg && write_kmsg(kmsg_record(level, message))) return;
    std::string line;
    if (s.target == LogTarget::journal_stream)
        line = "<" + std::to_string(static_cast<int>(level)) + ">";
    line += "xen-autoload: ";
    line += level_prefix(level);
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace xa
