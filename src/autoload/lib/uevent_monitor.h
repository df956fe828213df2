// UeventMonitor: the kernel's own device events (NETLINK_KOBJECT_UEVENT, multicast group 1),
// read directly so the daemon needs neither udev nor a shell. Only messages the kernel sent
// are accepted: sender port id 0 and SCM_CREDENTIALS uid 0. Any process with CAP_NET_ADMIN
// can unicast to our port id, so both checks are needed before trusting a single byte.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xa {

struct Uevent {
    std::string action;   // "add", "remove", "change", "bind", ...
    std::string devpath;  // "/devices/xen-backend/vif-1-0"
    // KEY=VALUE pairs in the order the kernel sent them (ACTION, DEVPATH, SUBSYSTEM, ...).
    std::vector<std::pair<std::string, std::string>> env;

    // The value of KEY, or nullopt.
    std::optional<std::string_view> get(std::string_view key) const;
};

// Parses a kernel uevent datagram: "ACTION@DEVPATH\0KEY=VALUE\0...". Returns nullopt for
// anything else (udev's "libudev" monitor format, no '@' header, no ACTION/DEVPATH pair,
// a header that disagrees with them, a key without '=', embedded garbage).
std::optional<Uevent> parse_uevent(std::span<const char> datagram);

// Why a datagram was accepted or dropped; the daemon logs drops (rate-limited).
enum class SenderVerdict { kernel, not_kernel_port, no_credentials, not_root };
const char* sender_verdict_name(SenderVerdict v);
// The sender check on its own, for unit tests: PORT is the source nl_pid, UID the
// credentials' uid (nullopt when the message carried none).
SenderVerdict check_sender(std::uint32_t port, std::optional<std::uint32_t> uid);

class UeventMonitor {
  public:
    struct Received {
        enum class Kind { event, dropped, none } kind = Kind::none;
        std::optional<Uevent> event;  // when kind == event
        std::string why;              // when dropped: "sender port 4242 is not the kernel"
        // When dropped: the kernel dropped events (ENOBUFS), which ones is unknown: rescan.
        bool lost_events = false;
    };

    // Opens and binds the socket (non-blocking, close-on-exec, SO_PASSCRED); GROUPS is the
    // multicast group mask (1 = kernel uevents; 0 = unicast only, for tests). Throws
    // std::system_error naming the failing call.
    explicit UeventMonitor(std::uint32_t groups = 1);
    ~UeventMonitor();
    UeventMonitor(const UeventMonitor&) = delete;
    UeventMonitor& operator=(const UeventMonitor&) = delete;

    int fd() const { return fd_; }
    // The port id the kernel gave the socket (a sender unicasts to this).
    std::uint32_t port() const { return port_; }

    // Reads one datagram if there is one (never blocks): kind none when the queue is empty.
    // ENOBUFS (the kernel dropped events because we were slow) is reported as dropped with
    // lost_events set, so the caller can rescan.
    Received receive();

  private:
    int fd_ = -1;
    std::uint32_t port_ = 0;
};

}  // namespace xa
