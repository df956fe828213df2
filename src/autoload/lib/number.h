// A whole command-line or sysfs field as a decimal number within bounds: one parser for the
// options (--jobs, --deadline) and the device names (vif-<domid>-<devid>).
#pragma once

#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

namespace xa {

// TEXT, all of it, as a decimal number in [LO, HI]; nullopt for anything else (empty, a
// sign, spaces, trailing characters, out of range).
inline std::optional<unsigned> parse_unsigned(std::string_view text, unsigned lo = 0,
                                              unsigned hi = std::numeric_limits<unsigned>::max()) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
        return std::nullopt;
    return v;
}

}  // namespace xa
