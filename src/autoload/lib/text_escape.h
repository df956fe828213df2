// The one escaper for anything untrusted that reaches a log line, an error message or
// human-readable output (uevent fields, command-line arguments, file contents and names):
// printable ASCII stays as it is, '\' becomes "\\", every other byte (control characters,
// DEL, non-ASCII) becomes "\xNN", so a value can never start a new log line or smuggle a
// "<N>" priority prefix, and it is cut at MAX bytes of input with "..." appended.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xa {

// Bound for a value echoed into a message (a MODALIAS, a DEVPATH, a policy word).
inline constexpr std::size_t kEchoMax = 64;

inline std::string escape_text(std::string_view s, std::size_t max = kEchoMax) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    const std::string_view head = s.substr(0, max);
    out.reserve(head.size() + 3);
    for (const char ch : head) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            out += "\\\\";
        } else if (c >= 0x20 && c < 0x7f) {
            out += ch;
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

// escape_text() in single quotes: "'value'".
inline std::string quote_text(std::string_view s, std::size_t max = kEchoMax) {
    return "'" + escape_text(s, max) + "'";
}

}  // namespace xa
