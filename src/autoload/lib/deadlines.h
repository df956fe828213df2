// Every deadline of the boot path in one table. An outer bound must be longer than the
// inner ones it wraps, so that the inner one fires first and its message says which module
// hung; the outer ones (set outside the program) are checked against these numbers by
// tests/boot/unit-file-test.sh, which reads them from `xen-autoload daemon --help` and
// `xen-autoload load --help`:
//   xen-autoload.service TimeoutStartSec=30s  >  kModule + kChildMargin (25 s): the
//       start-up child (the parallel load) is killed, and says so, before systemd gives up;
//       and since what comes before the child can be slow, the daemon moves systemd's bound
//       to the child's deadline + kServiceMargin from the fork (EXTEND_TIMEOUT_USEC);
//   the initramfs scripts' `timeout 30` around `load`  >  kModule (20 s).
// (The coldplug before READY=1 adds kModule per backend device that already exists; at
// boot, before any toolstack, there is none.)
#pragma once

#include <chrono>

namespace xa::deadlines {

// One module's insertion (its init can hang in the kernel): loader, udev helper, daemon.
inline constexpr std::chrono::seconds kModule{20};
// What a daemon child gets beyond its module deadlines for the rest (index, deny list, log).
inline constexpr std::chrono::seconds kChildMargin{5};
// How far past a child's deadline the daemon moves systemd's own bound (EXTEND_TIMEOUT_USEC)
// before it forks the child at start and reload: time to kill, reap and log it.
inline constexpr std::chrono::seconds kServiceMargin{5};

}  // namespace xa::deadlines
