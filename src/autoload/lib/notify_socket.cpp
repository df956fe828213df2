#include "notify_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace xa {

int notify_service_manager(std::string_view state) {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (env == nullptr || *env == '\0') return 0;
    const std::string_view name(env);
    if (name.front() != '/' && name.front() != '@') return -EAFNOSUPPORT;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name.size() >= sizeof addr.sun_path) return -EINVAL;
    std::memcpy(addr.sun_path, name.data(), name.size());
    // Abstract socket: the name starts with a NUL byte and has no terminator, so its length
    // is exactly what is passed; a path socket is passed with its terminating NUL.
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name.front() == '@')
        addr.sun_path[0] = '\0';
    else
        ++len;

    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    // MSG_NOSIGNAL: a manager that went away must not kill us with SIGPIPE. A datagram to a
    // local socket does not block for long; MSG_DONTWAIT keeps even a full queue from
    // stalling the daemon (the notification is then lost, as sd_notify would report).
    const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                               reinterpret_cast<const sockaddr*>(&addr), len);
    const int err = errno;
    ::close(fd);
    if (n < 0) return -err;
    return 1;
}

}  // namespace xa
