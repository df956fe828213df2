// PCI device selectors of the policy's `pciback-hide` lines (xen-autoload.conf(5)), and the
// PCI facts they are matched against. Pure functions on text and numbers, so the parser is
// unit-tested and fuzzed directly; reading sysfs is pci_hide.h's business.
//
//   0000:00:04.0  00:04.0     a PCI address (the short form means domain 0000)
//   8086:100e                 a vendor:device id (hex)
//   class=0x0200              a base class + subclass: matches class code 0x0200xx
//   class=0x020000            a full 24-bit class code (with the programming interface)
//
// Strict: exact digit counts (lspci's and sysfs' spelling), device <= 1f, function <= 7;
// anything else is rejected rather than guessed at (a typo must not hide another device).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xa {

struct PciAddress {
    std::uint32_t domain = 0;
    std::uint8_t bus = 0;
    std::uint8_t device = 0;    // 0..0x1f
    std::uint8_t function = 0;  // 0..7
    bool operator==(const PciAddress&) const = default;
};

// "0000:00:04.0" or "00:04.0"; domain 4..8 hex digits, bus and device 2, function 1.
std::optional<PciAddress> parse_pci_address(std::string_view text);
// The kernel's spelling, "0000:00:04.0": sysfs names, the files bind/unbind/new_slot take.
std::string pci_address_text(const PciAddress& a);

// What sysfs says about one device (files vendor, device, class: "0x8086\n").
struct PciDeviceIds {
    PciAddress address;
    std::optional<std::uint16_t> vendor;
    std::optional<std::uint16_t> device;
    std::optional<std::uint32_t> class_code;  // 24 bits: base class, subclass, prog-if
};

// A sysfs id file: "0x" then 1..N hex digits, a trailing newline allowed; nullopt for
// anything else or a value above MAX.
std::optional<std::uint32_t> parse_sysfs_hex(std::string_view text, std::uint32_t max);

struct PciSelector {
    enum class Kind { address, id, class16, class24 };
    Kind kind = Kind::address;
    PciAddress address;            // address
    std::uint16_t vendor = 0;      // id
    std::uint16_t device = 0;      // id
    std::uint32_t class_code = 0;  // class16: 0xCCSS; class24: 0xCCSSPP
    // The canonical spelling ("0000:00:04.0", "8086:100e", "class=0x0200"), for reports
    // and for merging duplicates.
    std::string text() const;
    bool matches(const PciDeviceIds& dev) const;
};

// One selector as written in a policy file; nullopt when malformed.
std::optional<PciSelector> parse_pci_selector(std::string_view text);

}  // namespace xa
