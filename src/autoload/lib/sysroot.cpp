#include "sysroot.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>

namespace xa {
namespace {

constexpr int kReadFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
constexpr int kMaxSymlinks = 40;  // the kernel's own limit

// Cleared the first time openat2 turns out to be missing (ENOSYS: Linux < 5.6) or filtered
// (EPERM/E2BIG from a seccomp policy or an old kernel).
std::atomic<bool> g_have_openat2{true};

std::vector<std::string> split_path(std::string_view p) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i < p.size()) {
        const std::size_t j = std::min(p.find('/', i), p.size());
        if (j > i) parts.emplace_back(p.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

std::string_view relative(std::string_view rel) {
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    return rel;
}

// The user-space walk: ROOT + the components of REL, symlinks resolved with ROOT as "/",
// ".." never above ROOT.
std::optional<std::string> walk(const std::string& root, std::string_view rel, int* err) {
    std::vector<std::string> done;
    std::deque<std::string> todo;
    for (std::string& c : split_path(rel)) todo.push_back(std::move(c));
    int links = 0;
    auto joined = [&](const std::string* last) {
        std::string p = root;
        for (const std::string& d : done) p += "/" + d;
        if (last != nullptr) p += "/" + *last;
        return p;
    };
    while (!todo.empty()) {
        std::string c = std::move(todo.front());
        todo.pop_front();
        if (c == ".") continue;
        if (c == "..") {
            if (!done.empty()) done.pop_back();
            continue;
        }
        const std::string cand = joined(&c);
        struct stat st {};
        if (::lstat(cand.c_str(), &st) < 0) {
            *err = errno;
            return std::nullopt;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > kMaxSymlinks) {
                *err = ELOOP;
                return std::nullopt;
            }
            std::string target(PATH_MAX, '\0');
            const ssize_t n = ::readlink(cand.c_str(), target.data(), target.size());
            if (n < 0) {
                *err = errno;
                return std::nullopt;
            }
            target.resize(static_cast<std::size_t>(n));
            if (!target.empty() && target.front() == '/') done.clear();
            const std::vector<std::string> parts = split_path(target);
            todo.insert(todo.begin(), parts.begin(), parts.end());
            continue;
        }
        if (!todo.empty() && !S_ISDIR(st.st_mode)) {
            *err = ENOTDIR;
            return std::nullopt;
        }
        done.push_back(std::move(c));
    }
    return joined(nullptr);
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

void sysroot_use_openat2(bool use) { g_have_openat2.store(use); }

const char* file_type_name(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG:
            return "regular file";
        case S_IFDIR:
            return "directory";
        case S_IFIFO:
            return "FIFO";
        case S_IFCHR:
            return "character device";
        case S_IFBLK:
            return "block device";
        case S_IFSOCK:
            return "socket";
        case S_IFLNK:
            return "symbolic link";
        default:
            return "special file";
    }
}

std::string ReadResult::why() const {
    if (type != nullptr) return std::string(type) + ", not a regular file";
    if (error == EFBIG) return "larger than " + std::to_string(max) + " bytes";
    return errno_text(error);
}

ReadResult read_fd(int fd, std::size_t max) {
    ReadResult r;
    r.max = max;
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        r.error = errno;
        r.status = ReadResult::Status::error;
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        r.error = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        r.type = file_type_name(st.st_mode);
        r.status = ReadResult::Status::error;
        return r;
    }
    // No verdict from st_size: sysfs gives every attribute the size of a page (4096) and
    // procfs gives 0. The loop below reads at most MAX + 1 bytes, whatever the file says.
    char buf[4096];
    for (;;) {
        const std::size_t want = std::min(sizeof buf, max + 1 - r.data.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            r.data.clear();
            r.status = ReadResult::Status::error;
            return r;
        }
        if (n == 0) break;
        r.data.append(buf, static_cast<std::size_t>(n));
        if (r.data.size() > max) {
            r.data.clear();
            r.error = EFBIG;
            r.status = ReadResult::Status::error;
            return r;
        }
    }
    r.status = ReadResult::Status::ok;
    return r;
}

SysRoot::SysRoot(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    if (root_ == "/") root_.clear();
}

std::string SysRoot::path(std::string_view rel) const {
    rel = relative(rel);
    std::string p = root_;
    p += '/';
    p += rel;
    return p;
}

std::optional<std::string> SysRoot::resolve(std::string_view rel, int* err) const {
    if (is_live()) return path(rel);
    return walk(root_, relative(rel), err);
}

int SysRoot::open(std::string_view rel, int extra_flags) const {
    const int flags = ((extra_flags & O_PATH) ? (O_PATH | O_CLOEXEC) : kReadFlags) | extra_flags;
    if (is_live()) {
        const int fd = ::open(path(rel).c_str(), flags);
        return fd < 0 ? -errno : fd;
    }
    rel = relative(rel);
    if (g_have_openat2.load(std::memory_order_relaxed)) {
        const Fd dir(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (dir.get() < 0) return -errno;
        open_how how{};
        how.flags = static_cast<std::uint64_t>(flags);
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        const std::string r(rel.empty() ? std::string_view(".") : rel);
        const long fd = ::syscall(SYS_openat2, dir.get(), r.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno != ENOSYS && errno != EPERM && errno != E2BIG) return -errno;
        g_have_openat2.store(false, std::memory_order_relaxed);
    }
    int err = 0;
    const auto p = walk(root_, rel, &err);
    if (!p) return -err;
    const int fd = ::open(p->c_str(), flags | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

ReadResult SysRoot::read(std::string_view rel, std::size_t max) const {
    const int fd = open(rel);
    if (fd < 0) {
        ReadResult r;
        r.max = max;
        r.error = -fd;
        r.status = (r.error == ENOENT || r.error == ENOTDIR) ? ReadResult::Status::missing
                                                             : ReadResult::Status::error;
        return r;
    }
    const Fd guard(fd);
    return read_fd(fd, max);
}

int SysRoot::write(std::string_view rel, std::string_view data) const {
    // O_TRUNC as a shell's "echo > file" does (sysfs ignores it, a FIFO or a device too);
    // O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of blocking, one
    // with a reader is refused by the fstat below before anything is written to it.
    const int fd = open(rel, O_WRONLY | O_TRUNC);
    if (fd < 0) return -fd;
    const Fd guard(fd);
    struct stat st {};
    if (::fstat(fd, &st) < 0) return errno;
    if (!S_ISREG(st.st_mode)) return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    for (;;) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        return static_cast<std::size_t>(n) == data.size() ? 0 : EIO;
    }
}

namespace {

// REL split into its directory and last name.
std::pair<std::string_view, std::string> split_last(std::string_view rel) {
    while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
    const std::size_t slash = rel.rfind('/');
    if (slash == std::string_view::npos) return {std::string_view(), std::string(rel)};
    return {rel.substr(0, slash), std::string(rel.substr(slash + 1))};
}

}  // namespace

bool SysRoot::exists(std::string_view rel) const {
    const auto [dir, name] = split_last(relative(rel));
    if (name.empty()) return is_dir(rel);
    const int fd = open(dir, O_PATH | O_DIRECTORY);
    if (fd < 0) return false;
    const Fd guard(fd);
    struct stat st {};
    return ::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int SysRoot::stat(std::string_view rel, struct stat* st) const {
    const int fd = open(rel, O_PATH);
    if (fd < 0) return fd;
    const Fd guard(fd);
    return ::fstat(fd, st) == 0 ? 0 : -errno;
}

bool SysRoot::is_dir(std::string_view rel) const {
    struct stat st {};
    return stat(rel, &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> SysRoot::read_link(std::string_view rel) const {
    const auto [dir, name] = split_last(relative(rel));
    if (name.empty()) return std::nullopt;
    const int fd = open(dir, O_PATH | O_DIRECTORY);
    if (fd < 0) return std::nullopt;
    const Fd guard(fd);
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlinkat(fd, name.c_str(), target.data(), target.size());
    if (n < 0) return std::nullopt;
    target.resize(static_cast<std::size_t>(n));
    return target;
}

std::vector<std::string> SysRoot::list_dir(std::string_view rel) const {
    int err = 0;
    return list_dir(rel, &err);
}

std::vector<std::string> SysRoot::list_dir(std::string_view rel, int* err) const {
    std::vector<std::string> names;
    *err = 0;
    const int fd = open(rel, O_DIRECTORY);
    if (fd < 0) {
        *err = -fd;
        return names;
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
        *err = errno;
        ::close(fd);
        return names;
    }
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        names.emplace_back(e->d_name);
    }
    if (errno != 0) *err = errno;
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string errno_name(int err) {
    if (const char* n = ::strerrorname_np(err)) return n;
    // Appended, not "E" + std::to_string(err): GCC 12 at -O3 reports a false
    // -Werror=restrict in the inlined operator+ (GCC bug 105329).
    std::string name = "E";
    name.append(std::to_string(err));
    return name;
}

std::string errno_text(int err) {
    return std::string(std::strerror(err)) + " (" + errno_name(err) + ")";
}

}  // namespace xa
