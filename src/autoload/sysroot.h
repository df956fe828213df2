// SysRoot: every read of the system goes through here, so a whole run can be pointed at a
// captured or fixture tree (--root DIR) instead of the live system.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xa {

struct ReadResult {
    enum class Status { ok, missing, error };
    Status status = Status::missing;
    std::string data;  // file contents when ok
    int error = 0;     // errno when error (or missing: ENOENT/ENOTDIR)

    bool ok() const { return status == Status::ok; }
};

class SysRoot {
  public:
    // An empty root means the live system ("/").
    explicit SysRoot(std::string root = {});

    bool is_live() const { return root_.empty(); }
    // The root directory as given ("/" for the live system).
    std::string root() const { return root_.empty() ? std::string("/") : root_; }
    // Absolute path of REL (a path relative to the root, e.g. "sys/hypervisor/type").
    std::string path(std::string_view rel) const;

    // Reads at most MAX bytes: sysfs/procfs files are small and a huge file is garbage.
    ReadResult read(std::string_view rel, std::size_t max = std::size_t{64} * 1024) const;
    bool exists(std::string_view rel) const;
    bool is_dir(std::string_view rel) const;
    // Names in a directory (no "." and ".."), sorted; empty when missing or unreadable.
    std::vector<std::string> list_dir(std::string_view rel) const;

  private:
    std::string root_;  // without trailing '/'; empty for the live system
};

// "ENODEV" for ENODEV; "E<number>" when the C library has no name.
std::string errno_name(int err);
// "No such device (ENODEV)"
std::string errno_text(int err);

}  // namespace xa
