// The kernel uevent parser on arbitrary datagrams. Properties checked: an accepted datagram
// ends in NUL and starts with the header "ACTION@DEVPATH\0"; action/devpath are the ACTION
// and DEVPATH values, never empty; every key is non-empty without '='; no key or value holds
// a NUL, another control character or DEL (the one trailing newline the kernel may send is
// stripped); each "KEY=VALUE" is a whole field of the input; and the parse is
// deterministic: the same bytes, or the event written back in the kernel's format, parse to
// the same event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "uevent_monitor.h"

namespace {

bool clean(std::string_view s) {
    for (const unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

bool same(const xa::Uevent& a, const xa::Uevent& b) {
    return a.action == b.action && a.devpath == b.devpath && a.env == b.env;
}

// Whether FIELD is a whole NUL-terminated field of IN after its header (optionally with the
// kernel's one trailing newline).
bool is_field(std::string_view in, std::string_view field) {
    const std::string mid = std::string(1, '\0') + std::string(field);
    return in.find(mid + '\0') != std::string_view::npos ||
           in.find(mid + "\n" + '\0') != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::optional<xa::Uevent> ev = xa::parse_uevent(std::span<const char>(in));
    const std::optional<xa::Uevent> again = xa::parse_uevent(std::span<const char>(in));
    if (ev.has_value() != again.has_value()) std::abort();
    if (!ev) return 0;
    if (!same(*ev, *again)) std::abort();

    if (in.back() != '\0') std::abort();  // truncated datagrams are refused
    if (ev->action.empty() || ev->devpath.empty()) std::abort();
    if (ev->get("ACTION") != ev->action || ev->get("DEVPATH") != ev->devpath) std::abort();
    if (!in.starts_with(ev->action + "@" + ev->devpath + '\0')) std::abort();
    for (const auto& [key, value] : ev->env) {
        if (key.empty() || key.find('=') != std::string::npos) std::abort();
        if (!clean(key) || !clean(value)) std::abort();
        if (!is_field(in, key + "=" + value)) std::abort();
    }

    // Written back as the kernel would send it, the event parses to itself.
    std::string out = ev->action + "@" + ev->devpath + '\0';
    for (const auto& [key, value] : ev->env) out += key + "=" + value + '\0';
    const std::optional<xa::Uevent> back = xa::parse_uevent(std::span<const char>(out));
    if (!back || !same(*ev, *back)) std::abort();
    return 0;
}
