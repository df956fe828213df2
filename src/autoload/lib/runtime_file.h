// Files the program leaves in /run for other programs to read: the deny list that udev and
// modprobe apply (deny_list.h), the daemon's watch file that the udev rules test
// (daemon.h). Written whole or not at all, readable by everyone.
#pragma once

#include <optional>
#include <string>

namespace xa {

// Writes TEXT to PATH atomically (a unique O_EXCL temporary file in the same directory,
// mode 0644, fsync, rename), creating missing parent directories mode 0755 whatever the
// umask; removes PATH when TEXT is empty (nothing to do when there is no PATH, even where
// unlink(2) answers EROFS or EACCES before it looks). Returns nothing on success, else one
// line naming the path and errno (a warning for the caller: the work goes on without it).
std::optional<std::string> write_runtime_file(const std::string& path, const std::string& text);

}  // namespace xa
