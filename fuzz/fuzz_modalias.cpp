// The udev helper's input checks on arbitrary strings. Properties checked: check_alias
// accepts exactly what udev_helper.h documents (xen-backend:<type> or xen:<type>, <type> 1
// to 32 of [a-z0-9_-]), so an accepted alias holds no control character, no space, no shell
// metacharacter and is at most 44 bytes, and a refusal is one printable line;
// parse_backend_devpath accepts exactly a last path component <type>-<domid>-<devid> (type
// not empty, both numbers decimal and within unsigned), and its fields round-trip: the name
// is the devpath's last component, it is type-domid-devid, and the canonical name parses
// back to the same device.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "udev_helper.h"

namespace {

bool alias_model(std::string_view a) {
    std::string_view type;
    if (a.starts_with("xen-backend:"))
        type = a.substr(12);
    else if (a.starts_with("xen:"))
        type = a.substr(4);
    else
        return false;
    if (type.empty() || type.size() > 32) return false;
    for (const char c : type)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

// TEXT as a decimal unsigned (digits only, leading zeros allowed), nullopt otherwise.
std::optional<unsigned> decimal(std::string_view text) {
    if (text.empty()) return std::nullopt;
    unsigned long long v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > UINT_MAX) return std::nullopt;
    }
    return static_cast<unsigned>(v);
}

void check_alias_of(std::string_view alias) {
    const std::optional<std::string> refused = xa::check_alias(alias);
    if (refused.has_value() == alias_model(alias)) std::abort();
    if (!refused) {
        if (alias.size() > 44) std::abort();
        for (const unsigned char c : alias)
            if (c <= 0x20 || c >= 0x7f ||
                std::string_view(";&|$`\\'\"<>()*?[]{}~!#=%").find(static_cast<char>(c)) !=
                    std::string_view::npos)
                std::abort();
    } else {
        if (refused->empty()) std::abort();
        for (const unsigned char c : *refused)
            if (c < 0x20 || c >= 0x7f) std::abort();
    }
}

void check_devpath(std::string_view devpath) {
    const auto dev = xa::parse_backend_devpath(devpath);
    const auto slash = devpath.rfind('/');
    const std::string_view last =
        slash == std::string_view::npos ? devpath : devpath.substr(slash + 1);
    // The model: split the last component from the right.
    std::optional<xa::BackendDevice> want;
    const auto d2 = last.rfind('-');
    if (d2 != std::string_view::npos && d2 > 0) {
        const auto d1 = last.rfind('-', d2 - 1);
        if (d1 != std::string_view::npos && d1 > 0) {
            const auto domid = decimal(last.substr(d1 + 1, d2 - d1 - 1));
            const auto devid = decimal(last.substr(d2 + 1));
            if (domid && devid)
                want = xa::BackendDevice{std::string(last), std::string(last.substr(0, d1)), *domid,
                                         *devid};
        }
    }
    if (dev.has_value() != want.has_value()) std::abort();
    if (!dev) return;
    if (dev->name != want->name || dev->type != want->type || dev->domid != want->domid ||
        dev->devid != want->devid)
        std::abort();
    if (dev->type.empty() || dev->name.find('/') != std::string::npos) std::abort();
    if (!devpath.ends_with(dev->name) || !dev->name.starts_with(dev->type + "-")) std::abort();
    const std::string canonical =
        dev->type + "-" + std::to_string(dev->domid) + "-" + std::to_string(dev->devid);
    for (const std::string& path : {canonical, "/devices/xen-backend/" + canonical}) {
        const auto back = xa::parse_backend_devpath(path);
        if (!back || back->name != canonical || back->type != dev->type ||
            back->domid != dev->domid || back->devid != dev->devid)
            std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    check_alias_of(in);
    check_devpath(in);
    // The same bytes where they would sit in real input, so the fuzzer reaches the
    // interesting paths without having to guess the prefixes.
    check_alias_of("xen-backend:" + std::string(in));
    check_alias_of("xen:" + std::string(in));
    check_devpath("/devices/xen-backend/vif-" + std::string(in));
    return 0;
}
