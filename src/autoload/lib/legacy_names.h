// Module names from old Xen packaging (xencommons' default list, 2.6.18-era XenLinux) and
// what a mainline kernel calls them. Used only when libkmod resolves a name to nothing.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace xa {

struct LegacyName {
    std::string_view legacy;
    std::string_view current;  // empty: no mainline equivalent
};

// The whole documented map (xen-autoload.conf(5) lists the same table).
std::span<const LegacyName> legacy_names();
// The mainline name for LEGACY; "" when the name is legacy but has no equivalent;
// std::nullopt when LEGACY is not a known legacy name.
std::optional<std::string_view> legacy_replacement(std::string_view legacy);

}  // namespace xa
