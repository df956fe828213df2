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
#include <vector>

#include "policy.h"
#include "runtime_file.h"

namespace xa {

class ModuleIndex;
class SysRoot;

inline constexpr const char* kDenyListPath = "/run/modprobe.d/xen-autoload-deny.conf";

// The file's text: a header naming the policy rule of each entry, one "blacklist NAME" per
// denied module (kernel spelling; names and aliases resolved through INDEX when given, so
// "deny netbk" or "deny xen-backend:vif" blacklist xen_netback). Empty when nothing is denied.
std::string deny_list_text(const Policy& policy, const ModuleIndex* index);

// Writes the deny list TEXT to PATH as write_runtime_file does (runtime_file.h): atomically,
// or removes it when TEXT is empty.
inline std::optional<std::string> write_deny_list(const std::string& path,
                                                  const std::string& text) {
    return write_runtime_file(path, text);
}

// The deny list in place, as `status` checks it. The daemon only warns when it cannot write
// the list (a read-only /run/modprobe.d must not block the boot), so without this check
// status would call a host complete while udev and modprobe can load a denied module.
// The file is compared with what deny_list_text would write now by the modules it
// blacklists ("blacklist NAME" lines, the only thing udev's kmod builtin and modprobe take
// from it), not byte for byte: its comments name policy files by path and line, which
// differ under --root or after an edit that changed no rule.
enum class DenyListProblem {
    none,        // in place: blacklists exactly the denied modules (or absent, none denied)
    missing,     // modules are denied and there is no file
    unreadable,  // cannot be read (permissions, not a regular file, too large)
    differs,     // blacklists other modules than the policy denies (or has other lines)
};

struct DenyListCheck {
    std::string path;  // the file as messages name it (below the root under --root)
    DenyListProblem problem = DenyListProblem::none;
    std::string read_error;  // when unreadable: "Permission denied (EACCES)", "FIFO, ..."
    // Denied modules the file does not blacklist: udev and modprobe can load them.
    std::vector<std::string> uncovered;
    // Modules the file blacklists that no deny rule denies: a stale list blocks them.
    std::vector<std::string> stale;
    bool other_lines = false;  // lines other than comments and "blacklist NAME"

    bool in_place() const { return problem == DenyListProblem::none; }
};

// "missing", "unreadable", "differs"; nullptr for none.
const char* deny_list_problem_name(DenyListProblem p);

// Reads REL (kDenyListPath) inside ROOT (confined, non-blocking, size-capped: sysroot.h)
// and compares it with EXPECTED, the text deny_list_text gives now ("" when nothing is
// denied: then no file, or one that blacklists nothing, is in place).
DenyListCheck check_deny_list(const SysRoot& root, const std::string& rel,
                              const std::string& expected);

// One line for status when not in place: the file, what is wrong, the modules it fails to
// cover or blocks, and the remedy. Empty when in place.
std::string deny_list_problem_text(const DenyListCheck& check);

}  // namespace xa
