#include "kconfig_config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "sysroot.h"
#include "text_escape.h"
#include "text_lines.h"

namespace xa {

namespace {

// A kernel config is ~250 KiB (Debian's amd64: 260 KiB); anything this big is not one.
constexpr std::size_t kMaxConfigBytes = 16u << 20;
// gzip -dc of a config takes milliseconds; the deadline only guards a stuck child.
constexpr auto kDecompressDeadline = std::chrono::seconds(10);

bool is_symbol_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool valid_symbol(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_symbol_char(c)) return false;
    return true;
}

void unset(std::map<std::string, std::string, std::less<>>& values, std::string_view symbol) {
    if (const auto it = values.find(symbol); it != values.end()) values.erase(it);
}

class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) close(fd_);
        fd_ = fd;
    }

  private:
    int fd_;
};

enum class Compression { none, gzip, xz };

Compression sniff(int fd) {
    std::array<unsigned char, 6> magic{};
    ssize_t n = pread(fd, magic.data(), magic.size(), 0);
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return Compression::gzip;
    static constexpr std::array<unsigned char, 6> kXz = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    if (n == 6 && magic == kXz) return Compression::xz;
    return Compression::none;
}

// Decompresses the file open on FD with a child gzip/xz.
//
// Why a child process and not zlib/liblzma: the binary may link only libkmod, libsystemd
// and the C/C++ runtime (it runs from the initramfs and on every udev event, and its
// package dependencies are part of the project's contract). check-kernel is an
// interactive diagnostic that reads one small file, so a fork is cheap. gzip is
// Essential in Debian and required by rpm itself; xz is only needed for .xz files.
// Safety: a fixed program path (no PATH search), a fixed argv, a minimal environment,
// the data passed as stdin (the file name never reaches the child), stderr to
// /dev/null, output capped at kMaxConfigBytes and a deadline after which the child is
// killed.
void decompress(int fd, Compression kind, const std::string& path, std::string* out) {
    const char* name = kind == Compression::gzip ? "gzip" : "xz";
    const std::array<const char*, 2> candidates =
        kind == Compression::gzip ? std::array<const char*, 2>{"/usr/bin/gzip", "/bin/gzip"}
                                  : std::array<const char*, 2>{"/usr/bin/xz", "/bin/xz"};
    const char* program = nullptr;
    for (const char* c : candidates)
        if (access(c, X_OK) == 0) {
            program = c;
            break;
        }
    if (program == nullptr) {
        throw ConfigError(path + ": cannot decompress: " + name + " not found in /usr/bin or /bin");
    }

    std::array<int, 2> pipe_fds{};
    if (pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
        throw ConfigError(path + ": cannot decompress: pipe: " + errno_text(errno));
    }
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::array<char*, 3> argv = {const_cast<char*>(name), const_cast<char*>("-dc"), nullptr};
    std::array<char*, 3> envp = {const_cast<char*>("PATH=/usr/bin:/bin"),
                                 const_cast<char*>("LC_ALL=C"), nullptr};
    if (lseek(fd, 0, SEEK_SET) < 0) {
        posix_spawn_file_actions_destroy(&actions);
        throw ConfigError(path + ": cannot decompress: seek: " + errno_text(errno));
    }
    pid_t pid = -1;
    int rc = posix_spawn(&pid, program, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw ConfigError(path + ": cannot decompress: " + program + ": " + errno_text(rc));
    }
    write_end.reset();

    const auto deadline = std::chrono::steady_clock::now() + kDecompressDeadline;
    std::string problem;
    std::array<char, 65536> buf{};
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            problem = std::string(name) + " did not finish within " +
                      std::to_string(kDecompressDeadline.count()) + " s";
            break;
        }
        pollfd pfd{read_end.get(), POLLIN, 0};
        int ready = poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) {
            problem = std::string("poll: ") + errno_text(errno);
            break;
        }
        if (ready == 0) continue;  // the deadline check above ends the loop
        ssize_t n = read(read_end.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            problem = std::string("read: ") + errno_text(errno);
            break;
        }
        if (n == 0) break;
        out->append(buf.data(), static_cast<std::size_t>(n));
        if (out->size() > kMaxConfigBytes) {
            problem = "decompressed data larger than " + std::to_string(kMaxConfigBytes >> 20) +
                      " MiB: not a kernel config";
            break;
        }
    }
    if (!problem.empty()) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (problem.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        problem = std::string(name) + " -dc failed (" +
                  (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status))) +
                  "): corrupt or truncated file";
    }
    if (!problem.empty()) throw ConfigError(path + ": cannot decompress: " + problem);
}

}  // namespace

std::string_view kconfig_state_name(KconfigState s) {
    switch (s) {
        case KconfigState::builtin:
            return "enabled";
        case KconfigState::module:
            return "module";
        case KconfigState::value:
            return "set";
        case KconfigState::missing:
            break;
    }
    return "missing";
}

KernelConfig KernelConfig::parse(std::string_view text, const std::string& origin) {
    KernelConfig config;
    Lines lines(text);
    constexpr std::string_view kPrefix = "CONFIG_";
    constexpr std::string_view kHeader = "# Linux/";
    constexpr std::string_view kHeaderEnd = " Kernel Configuration";
    while (const auto next = lines.next()) {
        std::string_view line = *next;
        const std::size_t line_no = lines.number();
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        if (line.front() == '#') {
            if (config.kernel_version_.empty() && line.starts_with(kHeader) &&
                line.ends_with(kHeaderEnd)) {
                std::string_view rest = line.substr(kHeader.size());
                std::size_t space = rest.find(' ');
                if (space != std::string_view::npos) {
                    rest = rest.substr(space + 1);
                    config.kernel_version_ = std::string(rest.substr(0, rest.find(' ')));
                }
            }
            // "# CONFIG_X is not set" means the same as absent, and like every line it
            // overrides an earlier one for X (a fragment appended to a config).
            constexpr std::string_view kNotSetHead = "# CONFIG_", kNotSet = " is not set";
            if (line.size() > kNotSetHead.size() + kNotSet.size() &&
                line.starts_with(kNotSetHead) && line.ends_with(kNotSet)) {
                const std::string_view symbol = line.substr(
                    kNotSetHead.size(), line.size() - kNotSetHead.size() - kNotSet.size());
                if (valid_symbol(symbol)) unset(config.values_, symbol);
            }
            continue;
        }
        std::size_t eq = line.find('=');
        std::string_view symbol =
            eq == std::string_view::npos ? std::string_view{} : line.substr(0, eq);
        if (!symbol.starts_with(kPrefix) || !valid_symbol(symbol.substr(kPrefix.size())) ||
            eq + 1 >= line.size()) {
            throw ConfigError(origin + ":" + std::to_string(line_no) +
                              ": not a kconfig line: " + quote_text(line));
        }
        std::string_view value = line.substr(eq + 1);
        if (value == "n") {  // old configs wrote CONFIG_X=n
            unset(config.values_, symbol.substr(kPrefix.size()));
            continue;
        }
        config.values_.insert_or_assign(std::string(symbol.substr(kPrefix.size())),
                                        std::string(value));
    }
    if (config.values_.empty()) {
        throw ConfigError(origin + ": no CONFIG_ symbol set: not a kernel config");
    }
    return config;
}

KconfigState KernelConfig::state(std::string_view symbol) const {
    auto it = values_.find(symbol);
    if (it == values_.end()) return KconfigState::missing;
    if (it->second == "y") return KconfigState::builtin;
    if (it->second == "m") return KconfigState::module;
    return KconfigState::value;
}

std::string KernelConfig::value(std::string_view symbol) const {
    auto it = values_.find(symbol);
    return it == values_.end() ? std::string() : it->second;
}

ConfigText read_config_file(const std::string& path) {
    // Through SysRoot's reader: O_NONBLOCK (a FIFO cannot hang us), regular files only.
    const int raw = SysRoot().open(path);
    if (raw < 0) {
        throw ConfigError(path + ": cannot open: " + errno_text(-raw));
    }
    Fd fd(raw);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw ConfigError(path + ": cannot read: " + std::string(file_type_name(st.st_mode)) +
                          ", not a regular file");
    }
    ConfigText result{path, {}};
    Compression kind = sniff(fd.get());
    if (kind == Compression::none) {
        const ReadResult r = read_fd(fd.get(), kMaxConfigBytes);
        if (!r.ok()) {
            throw ConfigError(path + ": cannot read: " + r.why());
        }
        result.text = r.data;
    } else {
        decompress(fd.get(), kind, path, &result.text);
    }
    return result;
}

ConfigText read_running_config() {
    std::string tried;
    const std::string proc = "/proc/config.gz";
    if (access(proc.c_str(), F_OK) == 0) return read_config_file(proc);
    tried = proc + ": missing (CONFIG_IKCONFIG_PROC off or module configs not loaded)";
    utsname uts{};
    if (uname(&uts) != 0) {
        throw ConfigError("no kernel config: " + tried + "; uname: " + errno_text(errno));
    }
    const std::string boot = std::string("/boot/config-") + uts.release;
    if (access(boot.c_str(), F_OK) == 0) return read_config_file(boot);
    throw ConfigError("no kernel config: " + tried + "; " + boot + ": missing; use --config FILE");
}

}  // namespace xa
