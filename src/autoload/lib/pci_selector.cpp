#include "pci_selector.h"

#include <charconv>
#include <cstdio>

namespace xa {
namespace {

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Exactly MIN..MAX hex digits and nothing else.
std::optional<std::uint32_t> hex_field(std::string_view s, std::size_t min, std::size_t max) {
    if (s.size() < min || s.size() > max) return std::nullopt;
    for (const char c : s)
        if (!is_hex(c)) return std::nullopt;
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string hex(std::uint32_t v, int width) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*x", width, v);
    return buf;
}

}  // namespace

std::optional<PciAddress> parse_pci_address(std::string_view text) {
    PciAddress a;
    // [DOMAIN:]BB:DD.F
    const std::size_t dot = text.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const auto fn = hex_field(text.substr(dot + 1), 1, 1);
    if (!fn || *fn > 7) return std::nullopt;
    const std::string_view head = text.substr(0, dot);
    const std::size_t c2 = head.rfind(':');
    if (c2 == std::string_view::npos) return std::nullopt;
    const auto dev = hex_field(head.substr(c2 + 1), 2, 2);
    if (!dev || *dev > 0x1f) return std::nullopt;
    std::string_view rest = head.substr(0, c2);
    const std::size_t c1 = rest.rfind(':');
    if (c1 != std::string_view::npos) {
        const auto dom = hex_field(rest.substr(0, c1), 4, 8);
        if (!dom) return std::nullopt;
        a.domain = *dom;
        rest = rest.substr(c1 + 1);
    }
    const auto bus = hex_field(rest, 2, 2);
    if (!bus) return std::nullopt;
    a.bus = static_cast<std::uint8_t>(*bus);
    a.device = static_cast<std::uint8_t>(*dev);
    a.function = static_cast<std::uint8_t>(*fn);
    return a;
}

std::string pci_address_text(const PciAddress& a) {
    return hex(a.domain, 4) + ":" + hex(a.bus, 2) + ":" + hex(a.device, 2) + "." +
           hex(a.function, 1);
}

std::optional<std::uint32_t> parse_sysfs_hex(std::string_view text, std::uint32_t max) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (!text.starts_with("0x")) return std::nullopt;
    const auto v = hex_field(text.substr(2), 1, 8);
    if (!v || *v > max) return std::nullopt;
    return v;
}

std::string PciSelector::text() const {
    switch (kind) {
        case Kind::address:
            return pci_address_text(address);
        case Kind::id:
            return hex(vendor, 4) + ":" + hex(device, 4);
        case Kind::class16:
            return "class=0x" + hex(class_code, 4);
        case Kind::class24:
            return "class=0x" + hex(class_code, 6);
    }
    return {};
}

bool PciSelector::matches(const PciDeviceIds& dev) const {
    switch (kind) {
        case Kind::address:
            return dev.address == address;
        case Kind::id:
            return dev.vendor == vendor && dev.device == device;
        case Kind::class16:
            return dev.class_code && (*dev.class_code >> 8) == class_code;
        case Kind::class24:
            return dev.class_code == class_code;
    }
    return false;
}

std::optional<PciSelector> parse_pci_selector(std::string_view text) {
    PciSelector s;
    if (text.starts_with("class=0x")) {
        const std::string_view digits = text.substr(8);
        if (digits.size() != 4 && digits.size() != 6) return std::nullopt;
        const auto v = hex_field(digits, digits.size(), digits.size());
        if (!v) return std::nullopt;
        s.kind = digits.size() == 4 ? PciSelector::Kind::class16 : PciSelector::Kind::class24;
        s.class_code = *v;
        return s;
    }
    if (text.find('.') != std::string_view::npos) {
        const auto a = parse_pci_address(text);
        if (!a) return std::nullopt;
        s.kind = PciSelector::Kind::address;
        s.address = *a;
        return s;
    }
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto vendor = hex_field(text.substr(0, colon), 4, 4);
    const auto device = hex_field(text.substr(colon + 1), 4, 4);
    if (!vendor || !device) return std::nullopt;
    s.kind = PciSelector::Kind::id;
    s.vendor = static_cast<std::uint16_t>(*vendor);
    s.device = static_cast<std::uint16_t>(*device);
    return s;
}

}  // namespace xa
