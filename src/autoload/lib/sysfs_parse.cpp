#include "sysfs_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "text_lines.h"

namespace xa {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::uint64_t> parse_hex_bitmap(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 16) return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<std::string> parse_version_extra(std::string_view text) {
    // The file ends with a newline; the value itself may be empty.
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (text.size() > 32) return std::nullopt;
    for (const char c : text)
        if (c <= ' ' || c > '~') return std::nullopt;
    return std::string(text);
}

std::optional<DtXen> parse_dt_hypervisor(std::string_view text) {
    constexpr std::string_view kGeneric = "xen,xen";
    constexpr std::string_view kVersioned = "xen,xen-";
    bool xen = false;
    DtXen out;
    while (!text.empty()) {
        const std::size_t end = text.find('\0');
        const std::string_view entry = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (entry == kGeneric) xen = true;
        if (!entry.starts_with(kVersioned) || out.version) continue;
        const std::string_view v = entry.substr(kVersioned.size());
        const bool plausible = !v.empty() && v.size() <= 16 && v.front() != '.' &&
                               v.find_first_not_of("0123456789.") == std::string_view::npos;
        if (plausible) out.version = std::string(v);
    }
    if (!xen) return std::nullopt;
    return out;
}

std::optional<GuestType> parse_guest_type(std::string_view text) {
    text = trim(text);
    if (text == "PV") return GuestType::pv;
    if (text == "PVH") return GuestType::pvh;
    if (text == "HVM") return GuestType::hvm;
    return std::nullopt;
}

const char* guest_type_name(GuestType t) {
    switch (t) {
        case GuestType::pv:
            return "PV";
        case GuestType::pvh:
            return "PVH";
        case GuestType::hvm:
            return "HVM";
        case GuestType::unknown:
            break;
    }
    return nullptr;
}

std::optional<std::string> parse_kernel_release(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 64 || text == "." || text == "..") return std::nullopt;
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+' ||
                        c == '~';
        if (!ok) return std::nullopt;
    }
    return std::string(text);
}

bool capabilities_have_control_d(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
        std::size_t j = i;
        while (j < text.size() && !is_space(text[j]) && text[j] != ',') ++j;
        if (text.substr(i, j - i) == "control_d") return true;
        i = j;
    }
    return false;
}

std::set<std::string> parse_proc_modules(std::string_view text) {
    std::set<std::string> names;
    Lines lines(text);
    while (const auto next = lines.next()) {
        const std::string_view line = trim(*next);
        const std::string_view name = line.substr(0, line.find_first_of(" \t"));
        if (is_valid_module_name(name)) names.insert(normalize_module_name(name));
    }
    return names;
}

std::string normalize_module_name(std::string_view name) {
    std::string n(name);
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
}

bool is_valid_module_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

bool is_valid_request_name(std::string_view name) {
    if (name.empty() || name.size() > 128 || name.front() == ':') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == ':';
    });
}

std::set<std::string> parse_cmdline_blacklist(std::string_view cmdline) {
    std::set<std::string> names;
    constexpr std::string_view kKey = "modprobe.blacklist=";
    std::size_t i = 0;
    while (i < cmdline.size()) {
        while (i < cmdline.size() && std::isspace(static_cast<unsigned char>(cmdline[i]))) ++i;
        std::size_t j = i;
        while (j < cmdline.size() && !std::isspace(static_cast<unsigned char>(cmdline[j]))) ++j;
        std::string_view word = cmdline.substr(i, j - i);
        i = j;
        if (!word.starts_with(kKey)) continue;
        word.remove_prefix(kKey.size());
        while (!word.empty()) {
            const std::size_t comma = word.find(',');
            const std::string_view name = word.substr(0, comma);
            if (is_valid_module_name(name)) names.insert(normalize_module_name(name));
            word = comma == std::string_view::npos ? std::string_view() : word.substr(comma + 1);
        }
    }
    return names;
}

}  // namespace xa
