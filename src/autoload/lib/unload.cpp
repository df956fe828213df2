#include "unload.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace xa {

int unload_unused_module(const std::string& name) {
    // glibc has no wrapper for delete_module.
    if (::syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) == 0) return 0;
    return errno;
}

}  // namespace xa
