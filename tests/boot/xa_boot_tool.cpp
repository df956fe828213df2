// Test helper for daemon-test.sh (not installed):
//   xa-boot-tool send-uevent PORT      unicast a forged xen-backend "add" uevent (vif-7-0) to
//                                      netlink port PORT, as a user-space process would
//   xa-boot-tool notify-listen PATH S  be a NOTIFY_SOCKET at PATH for S seconds; print each
//                                      sd_notify datagram on one line ("READY=1 STATUS=...")
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace std::string_literals;

static int send_uevent(const char* port_text) {
    const std::string msg =
        "add@/devices/xen-backend/vif-7-0\0ACTION=add\0DEVPATH=/devices/xen-backend/vif-7-0\0"
        "SUBSYSTEM=xen-backend\0XENBUS_TYPE=vif\0XENBUS_PATH=backend/vif/7/0\0"
        "MODALIAS=xen-backend:vif\0SEQNUM=99999\0"s;
    const int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (s < 0) return std::perror("socket"), 1;
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = static_cast<unsigned>(std::strtoul(port_text, nullptr, 10));
    if (::sendto(s, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
        return std::perror("sendto"), 1;
    std::printf("sent %zu bytes to netlink port %u\n", msg.size(), to.nl_pid);
    return 0;
}

static int notify_listen(const char* path, const char* seconds) {
    const int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return std::perror("socket"), 1;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    ::unlink(path);
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return std::perror("bind"), 1;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(seconds));
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{s, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(s, buf, sizeof buf - 1, 0);
        if (n <= 0) continue;
        for (ssize_t i = 0; i < n; ++i)
            if (buf[i] == '\n') buf[i] = ' ';
        buf[n] = '\0';
        std::printf("%s\n", buf);
        std::fflush(stdout);
        if (std::strstr(buf, "STOPPING=1")) break;
    }
    ::unlink(path);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "send-uevent") == 0) return send_uevent(argv[2]);
    if (argc == 4 && std::strcmp(argv[1], "notify-listen") == 0)
        return notify_listen(argv[2], argv[3]);
    std::fprintf(stderr, "usage: xa-boot-tool send-uevent PORT | notify-listen PATH SECONDS\n");
    return 2;
}
