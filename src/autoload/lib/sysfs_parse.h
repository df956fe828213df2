// Parsers for the small sysfs/procfs files detection reads. Pure functions on text, so they
// are unit-tested and fuzzed directly. Every parser rejects garbage instead of guessing.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace xa {

// Leading and trailing ASCII whitespace removed.
std::string_view trim(std::string_view s);

// /sys/hypervisor/properties/features: a hex bitmap ("000228f0\n"), 1..16 hex digits.
std::optional<std::uint64_t> parse_hex_bitmap(std::string_view text);

// XENFEAT_dom0: set by Xen (>= 4.2) in the feature map of the hardware domain.
inline constexpr unsigned kXenFeatDom0Bit = 11;

// /sys/hypervisor/version/{major,minor}: number.h's parse_unsigned of the trimmed value.
inline constexpr unsigned kXenVersionMax = 99999;
// /sys/hypervisor/version/extra: ".7", "-rc", "" ... printable, short, no spaces.
std::optional<std::string> parse_version_extra(std::string_view text);

// /sys/hypervisor/guest_type
enum class GuestType { unknown, pv, pvh, hvm };
std::optional<GuestType> parse_guest_type(std::string_view text);
const char* guest_type_name(GuestType t);  // "PV", "PVH", "HVM"; nullptr for unknown

// /proc/device-tree/hypervisor/compatible (Arm; x86 has no device tree): NUL-terminated
// strings, e.g. "xen,xen-4.17\0xen,xen\0". The binding's generic entry "xen,xen" says Xen
// (Linux's xen_early_init looks for it, before /sys/hypervisor exists); a "xen,xen-X.Y"
// entry gives the version, digits and dots only. Null without "xen,xen".
struct DtXen {
    std::optional<std::string> version;  // "4.17"
};
std::optional<DtXen> parse_dt_hypervisor(std::string_view text);

// /proc/sys/kernel/osrelease: one token of [A-Za-z0-9._+~-], as used for lib/modules/KVER.
std::optional<std::string> parse_kernel_release(std::string_view text);

// /proc/xen/capabilities: true when the whitespace/comma separated list has "control_d".
bool capabilities_have_control_d(std::string_view text);

// /proc/modules: the module names (first field of each line).
std::set<std::string> parse_proc_modules(std::string_view text);

// /proc/cmdline: the module names of every modprobe.blacklist=A,B,... (normalized).
std::set<std::string> parse_cmdline_blacklist(std::string_view cmdline);

// Module names compare with '-' and '_' equal (the kernel stores '_').
std::string normalize_module_name(std::string_view name);
// A valid module name or alias-free name for policy files: [A-Za-z0-9_-]{1,64}.
bool is_valid_module_name(std::string_view name);
// A name a policy may ask for: a module name or a module alias ("xen-backend:vif").
bool is_valid_request_name(std::string_view name);

}  // namespace xa
