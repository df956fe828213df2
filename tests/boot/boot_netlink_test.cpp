// UeventMonitor on this machine's real kernel netlink (needs root: CAP_NET_ADMIN to send to
// a netlink port, write access to /sys): a forged unicast from user space is dropped, a
// real kernel uevent is accepted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>

#include "uevent_monitor.h"
#include "uevent_samples.h"

namespace xa {
namespace {

using namespace std::string_literals;

using test::vif_add;

// Polls FD for up to MS milliseconds; true when readable.
bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

TEST(UeventMonitor, ForgedUnicastFromUserSpaceIsDropped) {
    UeventMonitor monitor(0);  // unicast only: nothing from the kernel interferes
    ASSERT_NE(monitor.port(), 0u);
    const int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    ASSERT_GE(s, 0);
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = monitor.port();
    const ssize_t n = ::sendto(s, vif_add().data(), vif_add().size(), 0,
                               reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (n < 0 && errno == EPERM) {
        ::close(s);
        FAIL() << "sending to a netlink port needs CAP_NET_ADMIN: run the tests as root";
    }
    ASSERT_EQ(n, static_cast<ssize_t>(vif_add().size()));
    ::close(s);
    ASSERT_TRUE(wait_readable(monitor.fd(), 2000));
    const auto r = monitor.receive();
    EXPECT_EQ(r.kind, UeventMonitor::Received::Kind::dropped);
    EXPECT_FALSE(r.event);
    EXPECT_NE(r.why.find("not the kernel"), std::string::npos) << r.why;
    EXPECT_EQ(monitor.receive().kind, UeventMonitor::Received::Kind::none);
}

TEST(UeventMonitor, RealKernelUeventIsAccepted) {
    UeventMonitor monitor(1);
    // Writing an action to a device's uevent file makes the kernel emit that uevent (port 0,
    // uid 0): the positive control for the sender check. /dev/null's is harmless.
    {
        std::ofstream trigger("/sys/class/mem/null/uevent");
        ASSERT_TRUE(trigger) << "cannot open /sys/class/mem/null/uevent (run as root)";
        trigger << "change\n";
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < until) {
        if (!wait_readable(monitor.fd(), 500)) continue;
        for (auto r = monitor.receive(); r.kind != UeventMonitor::Received::Kind::none;
             r = monitor.receive()) {
            ASSERT_NE(r.kind, UeventMonitor::Received::Kind::dropped) << r.why;
            if (r.event->devpath == "/devices/virtual/mem/null" && r.event->action == "change")
                seen = true;
        }
    }
    EXPECT_TRUE(seen) << "no change uevent for /devices/virtual/mem/null within 5 s";
}

}  // namespace
}  // namespace xa
