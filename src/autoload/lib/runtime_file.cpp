#include "runtime_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "sysroot.h"

namespace xa {

std::optional<std::string> write_runtime_file(const std::string& path, const std::string& text) {
    if (text.empty()) {
        // unlink(2) checks for a read-only mount (EROFS) and for write permission on the
        // directory before it looks the name up: an error only counts when there is a file.
        if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
            const int err = errno;
            struct stat st {};
            if (::lstat(path.c_str(), &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
                return std::nullopt;
            return "cannot remove " + path + ": " + errno_text(err);
        }
        return std::nullopt;
    }
    // Create the directory and its parents (/run/modprobe.d and /run/xen-autoload normally
    // exist, made by the unit's RuntimeDirectory=; tests point elsewhere): 0755 whatever
    // the umask (the unit runs with UMask=0077), since udev and modprobe read the files as
    // other users.
    // Directories that exist already are left as they are.
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        const std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) == 0) {
            if (::chmod(dir.c_str(), 0755) < 0)
                return "cannot create " + dir + ": " + errno_text(errno);
        } else if (errno != EEXIST) {
            return "cannot create " + dir + ": " + errno_text(errno);
        }
    }
    // A unique temporary file in the same directory (O_EXCL: never an existing file or a
    // planted symlink), world-readable, synced, then renamed over PATH.
    std::string tmp = path + ".XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    // Named by PATH: the temporary name is a different random one each time (a read-only
    // directory fails here).
    if (fd < 0) return "cannot write " + path + ": " + errno_text(errno);
    auto fail = [&](const std::string& what, int err) -> std::optional<std::string> {
        ::close(fd);
        ::unlink(tmp.c_str());
        return "cannot write " + what + ": " + errno_text(err);
    };
    if (::fchmod(fd, 0644) < 0) return fail(tmp, errno);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(tmp, errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) < 0) return fail(tmp, errno);
    if (::close(fd) < 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return "cannot write " + tmp + ": " + errno_text(err);
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return "cannot write " + path + ": " + errno_text(err);
    }
    return std::nullopt;
}

}  // namespace xa
