#include "uevent_monitor.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace xa {

std::optional<std::string_view> Uevent::get(std::string_view key) const {
    for (const auto& [k, v] : env)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::optional<Uevent> parse_uevent(std::span<const char> datagram) {
    // The kernel terminates every field with NUL; a datagram not ending in one is truncated
    // or not from the kernel.
    if (datagram.empty() || datagram.back() != '\0') return std::nullopt;
    std::string_view rest(datagram.data(), datagram.size());

    auto next_field = [&rest]() {
        const auto end = rest.find('\0');
        std::string_view field = rest.substr(0, end);
        rest.remove_prefix(end + 1);
        return field;
    };
    auto printable = [](std::string_view s) {
        for (unsigned char c : s)
            if (c < 0x20 || c == 0x7f) return false;
        return true;
    };

    const std::string_view header = next_field();
    const auto at = header.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= header.size()) return std::nullopt;

    Uevent ev;
    while (!rest.empty()) {
        std::string_view field = next_field();
        if (field.empty()) continue;  // tolerate padding NULs
        // The kernel ends a CPU's MODALIAS with a newline (drivers/base/cpu.c formats it
        // for the sysfs file and reuses it for the uevent): one trailing newline is data
        // from the kernel, not an attack; every other control character still is.
        if (field.back() == '\n') field.remove_suffix(1);
        const auto eq = field.find('=');
        if (eq == std::string_view::npos || eq == 0 || !printable(field)) return std::nullopt;
        ev.env.emplace_back(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
    }
    const auto action = ev.get("ACTION");
    const auto devpath = ev.get("DEVPATH");
    if (!action || !devpath || action->empty() || devpath->empty()) return std::nullopt;
    // The header repeats ACTION and DEVPATH; a disagreement means a forged or broken message.
    if (header.substr(0, at) != *action || header.substr(at + 1) != *devpath) return std::nullopt;
    ev.action = std::string(*action);
    ev.devpath = std::string(*devpath);
    return ev;
}

const char* sender_verdict_name(SenderVerdict v) {
    switch (v) {
        case SenderVerdict::kernel:
            return "kernel";
        case SenderVerdict::not_kernel_port:
            return "sender port is not the kernel's";
        case SenderVerdict::no_credentials:
            return "no sender credentials";
        case SenderVerdict::not_root:
            return "sender uid is not 0";
    }
    return "?";
}

SenderVerdict check_sender(std::uint32_t port, std::optional<std::uint32_t> uid) {
    if (port != 0) return SenderVerdict::not_kernel_port;
    if (!uid) return SenderVerdict::no_credentials;
    if (*uid != 0) return SenderVerdict::not_root;
    return SenderVerdict::kernel;
}

UeventMonitor::UeventMonitor(std::uint32_t groups) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "socket(NETLINK_KOBJECT_UEVENT)");
    const int on = 1;
    if (::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "setsockopt(SO_PASSCRED)");
    }
    // A burst (many guests started at once) must not overflow the queue: ask for 1 MiB.
    // Without CAP_NET_ADMIN the kernel caps it at rmem_max; both are fine.
    const int rcvbuf = 1024 * 1024;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = groups;
    addr.nl_pid = 0;  // let the kernel choose a unique port id
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "bind(NETLINK_KOBJECT_UEVENT)");
    }
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "getsockname(netlink)");
    }
    port_ = addr.nl_pid;
}

UeventMonitor::~UeventMonitor() {
    if (fd_ >= 0) ::close(fd_);
}

UeventMonitor::Received UeventMonitor::receive() {
    // A uevent is at most UEVENT_BUFFER_SIZE (2048) bytes of environment plus the header.
    std::array<char, 8192> buf{};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred))> control{};
    sockaddr_nl sender{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = &sender;
    msg.msg_namelen = sizeof sender;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();

    Received r;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return r;
        r.kind = Received::Kind::dropped;
        r.lost_events = errno == ENOBUFS;
        r.why = r.lost_events ? "receive queue overflowed"
                              : std::string("recvmsg failed: ") + std::strerror(errno);
        return r;
    }
    r.kind = Received::Kind::dropped;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        r.why = "truncated message";
        return r;
    }
    if (msg.msg_namelen != sizeof sender || sender.nl_family != AF_NETLINK) {
        r.why = "no netlink sender address";
        return r;
    }
    std::optional<std::uint32_t> uid;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
            ucred cred{};
            std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
            uid = cred.uid;
        }
    }
    const SenderVerdict verdict = check_sender(sender.nl_pid, uid);
    if (verdict != SenderVerdict::kernel) {
        r.why = std::string(sender_verdict_name(verdict)) + " (port " +
                std::to_string(sender.nl_pid) + ", uid " +
                (uid ? std::to_string(*uid) : std::string("none")) + ")";
        return r;
    }
    r.event = parse_uevent(std::span<const char>(buf.data(), static_cast<std::size_t>(n)));
    if (!r.event) {
        r.why = "malformed uevent";
        return r;
    }
    r.kind = Received::Kind::event;
    return r;
}

}  // namespace xa
