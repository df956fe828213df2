#include "legacy_names.h"

#include <array>

namespace xa {
namespace {

// constexpr array: no static initialiser runs at start-up.
constexpr std::array<LegacyName, 8> kLegacy{{
    {"netbk", "xen-netback"},
    {"blkbk", "xen-blkback"},
    {"pciback", "xen-pciback"},
    {"evtchn", "xen-evtchn"},
    {"gntdev", "xen-gntdev"},
    {"gntalloc", "xen-gntalloc"},
    {"xen-scsibk", "xen-scsiback"},
    {"usbbk", ""},  // the USB backend was never merged into Linux; QEMU's qusb replaces it
}};

}  // namespace

std::span<const LegacyName> legacy_names() { return kLegacy; }

std::optional<std::string_view> legacy_replacement(std::string_view legacy) {
    for (const LegacyName& l : kLegacy) {
        if (l.legacy == legacy) return l.current;
    }
    return std::nullopt;
}

}  // namespace xa
