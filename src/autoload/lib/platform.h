// Platform detection: which hypervisor, which role, which guest type, with the evidence for
// each conclusion. Reads only through SysRoot; CPUID only through a CpuidProbe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sysfs_parse.h"

namespace xa {

class SysRoot;
class CpuidProbe;

enum class Hypervisor { none, xen };
// dom0/domU/none come from detection; driver_domain is a domU whose policy says so.
enum class Role { none, dom0, domU, driver_domain };

const char* role_name(Role r);  // "none", "dom0", "domU", "driver-domain"
std::optional<Role> parse_role(std::string_view s);

struct Evidence {
    std::string source;  // path relative to the root ("sys/hypervisor/type") or "cpuid:0x40000000"
    std::string fact;
};

struct Platform {
    Hypervisor hypervisor = Hypervisor::none;
    Role role = Role::none;
    GuestType guest_type = GuestType::unknown;
    std::optional<std::string> xen_version;  // "4.17.7"
    std::optional<std::string> kernel;       // release, e.g. "6.1.0-26-amd64"
    std::vector<Evidence> evidence;
};

// CPUID is null under --root (never probe the machine we run on for a captured tree).
Platform detect_platform(const SysRoot& root, const CpuidProbe* cpuid);

// The kernel release: ROOT/proc/sys/kernel/osrelease; on the live system uname() if that
// file is unreadable.
std::optional<std::string> kernel_release(const SysRoot& root, std::vector<Evidence>* evidence);

}  // namespace xa
