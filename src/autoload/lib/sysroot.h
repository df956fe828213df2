// SysRoot: every read of the system goes through here, so a whole run can be pointed at a
// captured or fixture tree (--root DIR) instead of the live system.
//
// Hostile trees: under a root every path is resolved INSIDE it (openat2 RESOLVE_IN_ROOT on
// Linux >= 5.6, else a component walk in user space that reads absolute symlinks as
// relative to the root and never climbs above it), and every file is opened
// O_NONBLOCK|O_CLOEXEC|O_NOCTTY, fstat()ed and refused unless it is a regular file
// (sysfs and procfs files are), then read with a size cap. A FIFO, a device or a huge file
// can neither hang a run nor exhaust memory.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xa {

struct ReadResult {
    enum class Status { ok, missing, error };
    Status status = Status::missing;
    std::string data;  // file contents when ok
    int error = 0;     // errno when error (or missing: ENOENT/ENOTDIR)
    // When error: the file exists but is no regular file (FIFO, device, directory...):
    // then ERROR is EINVAL (EISDIR for a directory) and TYPE names what it is.
    const char* type = nullptr;
    std::size_t max = 0;  // the cap that applied (for the EFBIG message)

    bool ok() const { return status == Status::ok; }
    // "FIFO, not a regular file", "larger than 1048576 bytes", "Permission denied (EACCES)".
    std::string why() const;
};

inline constexpr std::size_t kDefaultReadMax = std::size_t{64} * 1024;

// What st_mode is, in words: "regular file", "directory", "FIFO", "character device"...
const char* file_type_name(mode_t mode);

// Reads the open FD: fstat, refused unless a regular file, at most MAX bytes (more is
// EFBIG). Does not close FD.
ReadResult read_fd(int fd, std::size_t max);

class SysRoot {
  public:
    // An empty root means the live system ("/").
    explicit SysRoot(std::string root = {});

    bool is_live() const { return root_.empty(); }
    // The root directory as given ("/" for the live system).
    std::string root() const { return root_.empty() ? std::string("/") : root_; }
    // Absolute path of REL (a path relative to the root, e.g. "sys/hypervisor/type"), for
    // messages and for handing to libraries: not resolved, so not confined.
    std::string path(std::string_view rel) const;
    // The host path REL really names, every symlink resolved inside the root (live: the
    // path itself). nullopt with *ERR set when a component is missing, not a directory,
    // or there are too many symlinks (ELOOP).
    std::optional<std::string> resolve(std::string_view rel, int* err) const;

    // Opens REL for reading, confined to the root, O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY
    // plus EXTRA_FLAGS (O_DIRECTORY, O_PATH). Returns the fd or -errno.
    int open(std::string_view rel, int extra_flags = 0) const;
    // Reads at most MAX bytes of a regular file: sysfs/procfs files are small and a huge
    // file is garbage.
    ReadResult read(std::string_view rel, std::size_t max = kDefaultReadMax) const;
    bool exists(std::string_view rel) const;  // the name itself (a dangling link counts)
    bool is_dir(std::string_view rel) const;
    // stat() of what REL resolves to inside the root; -errno or 0.
    int stat(std::string_view rel, struct stat* st) const;
    // The target of the symlink REL (its directory resolved inside the root); nullopt when
    // REL is not a symlink.
    std::optional<std::string> read_link(std::string_view rel) const;
    // Writes DATA to the existing file REL in one write(2) (a sysfs attribute takes one
    // write), confined like open(): O_WRONLY|O_TRUNC|O_NONBLOCK|O_CLOEXEC|O_NOCTTY, never
    // created, refused (EINVAL) unless a regular file. Returns 0 or the errno; a short
    // write is EIO.
    int write(std::string_view rel, std::string_view data) const;
    // Names in a directory (no "." and ".."), sorted; empty when missing or unreadable.
    std::vector<std::string> list_dir(std::string_view rel) const;
    // The same, with *ERR = 0 on success, else the errno (ENOENT when missing).
    std::vector<std::string> list_dir(std::string_view rel, int* err) const;

  private:
    std::string root_;  // without trailing '/'; empty for the live system
};

// Tests: false makes every SysRoot use the user-space walk instead of openat2.
void sysroot_use_openat2(bool use);

// "ENODEV" for ENODEV; "E<number>" when the C library has no name.
std::string errno_name(int err);
// "No such device (ENODEV)"
std::string errno_text(int err);

}  // namespace xa
