#include "notify_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace xa {
namespace {

// A datagram socket bound to NAME (a path, or '@' for an abstract name), as systemd's is.
int listen_on(const std::string& name) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    else
        ++len;
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len), 0) << name;
    return fd;
}

std::string receive(int fd) {
    std::array<char, 256> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf.data(), static_cast<size_t>(n));
}

TEST(NotifySocket, UnsetIsANoOp) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(notify_service_manager("READY=1"), 0);
}

TEST(NotifySocket, PathSocket) {
    const std::string path = "/tmp/xa-notify-test." + std::to_string(::getpid());
    ::unlink(path.c_str());
    const int fd = listen_on(path);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    EXPECT_EQ(notify_service_manager("READY=1\nSTATUS=dom0"), 1);
    EXPECT_EQ(receive(fd), "READY=1\nSTATUS=dom0");
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
    ::unlink(path.c_str());
}

TEST(NotifySocket, AbstractSocket) {
    const std::string name = "@xa-notify-test." + std::to_string(::getpid());
    const int fd = listen_on(name);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
    EXPECT_EQ(notify_service_manager("STOPPING=1"), 1);
    EXPECT_EQ(receive(fd), "STOPPING=1");
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
}

TEST(NotifySocket, Errors) {
    ::setenv("NOTIFY_SOCKET", "/nonexistent/xa-notify", 1);
    EXPECT_EQ(notify_service_manager("READY=1"), -ENOENT);
    ::setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    EXPECT_EQ(notify_service_manager("READY=1"), -EAFNOSUPPORT);
    ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
    EXPECT_EQ(notify_service_manager("READY=1"), -EINVAL);
    ::unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace xa
