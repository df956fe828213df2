// The deny list: modules the policy says never to load, written as a modprobe.d file in /run
// so that the other loaders on the system refuse them too. udev's kmod builtin (the generic
// MODALIAS rule in 80-drivers.rules) probes with KMOD_PROBE_APPLY_BLACKLIST, which refuses a
// blacklisted module whatever name or alias reached it; modprobe applies "blacklist" to alias
// lookups. An explicit "modprobe xen-netback" by the administrator still works on purpose:
// deny is about automatic loading. ("install MOD /bin/false" would also stop that, but would
// make udev's builtin run a command per event and log failures for a policy decision.)
#pragma once

#include <optional>
#include <string>

#include "policy.h"

namespace xa {

class ModuleIndex;

inline constexpr const char* kDenyListPath = "/run/modprobe.d/xen-autoload-deny.conf";

// The file's text: a header naming the policy rule of each entry, one "blacklist NAME" per
// denied module (kernel spelling; names and aliases resolved through INDEX when given, so
// "deny netbk" or "deny xen-backend:vif" blacklist xen_netback). Empty when nothing is denied.
std::string deny_list_text(const Policy& policy, const ModuleIndex* index);

// Writes TEXT to PATH atomically (a unique O_EXCL temporary file in the same directory,
// mode 0644, fsync, rename), creating missing parent directories mode 0755 whatever the
// umask; removes PATH when TEXT is empty (nothing to do when there is no PATH, even where
// unlink(2) answers EROFS or EACCES before it looks). Returns nothing on success, else one
// line naming the path and errno (a warning for the caller: the work goes on without it).
std::optional<std::string> write_deny_list(const std::string& path, const std::string& text);

}  // namespace xa
