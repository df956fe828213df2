#include "sysroot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xa {

SysRoot::SysRoot(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    if (root_ == "/") root_.clear();
}

std::string SysRoot::path(std::string_view rel) const {
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    std::string p = root_;
    p += '/';
    p += rel;
    return p;
}

ReadResult SysRoot::read(std::string_view rel, std::size_t max) const {
    ReadResult r;
    const std::string p = path(rel);
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        r.error = errno;
        r.status = (errno == ENOENT || errno == ENOTDIR) ? ReadResult::Status::missing
                                                         : ReadResult::Status::error;
        return r;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        r.error = EISDIR;
        r.status = ReadResult::Status::error;
        return r;
    }
    char buf[4096];
    for (;;) {
        const std::size_t want = std::min(sizeof buf, max + 1 - r.data.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            r.status = ReadResult::Status::error;
            ::close(fd);
            return r;
        }
        if (n == 0) break;
        r.data.append(buf, static_cast<std::size_t>(n));
        if (r.data.size() > max) {
            ::close(fd);
            r.data.clear();
            r.error = EFBIG;
            r.status = ReadResult::Status::error;
            return r;
        }
    }
    ::close(fd);
    r.status = ReadResult::Status::ok;
    return r;
}

bool SysRoot::exists(std::string_view rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0;
}

bool SysRoot::is_dir(std::string_view rel) const {
    struct stat st {};
    return ::stat(path(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> SysRoot::list_dir(std::string_view rel) const {
    std::vector<std::string> names;
    DIR* d = ::opendir(path(rel).c_str());
    if (d == nullptr) return names;
    while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        names.emplace_back(e->d_name);
    }
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
