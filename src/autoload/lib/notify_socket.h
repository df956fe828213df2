// The service manager notification (READY=1, STATUS=, RELOADING=1, STOPPING=1) written
// natively, without libsystemd. Why hand-written: the daemon's long-lived process must stay
// under 2 MiB RSS, and sd_notify() from libsystemd.so.0 maps libsystemd + libgcrypt + libcap
// + liblz4 (about 0.9 MiB) into it for good. The protocol is small and stable (sd_notify(3),
// "Notes"/protocol): one datagram with the newline-separated assignments, sent to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name written with a
// leading '@').
#pragma once

#include <string_view>

namespace xa {

// Sends STATE as one datagram to $NOTIFY_SOCKET. Returns 0 when NOTIFY_SOCKET is unset (not
// under a service manager: nothing to do, as sd_notify does), 1 when sent, -errno on failure
// (-EAFNOSUPPORT for socket kinds other than AF_UNIX, e.g. "vsock:").
int notify_service_manager(std::string_view state);

}  // namespace xa
