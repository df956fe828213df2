// JSON output and the text escaper on arbitrary bytes. Properties checked: json_text never
// throws on a string value or object key holding any bytes, its output parses back with
// nlohmann::json::parse, valid UTF-8 comes back byte-identical and invalid UTF-8 comes back
// with each maximal ill-formed subsequence replaced by one U+FFFD (json_text.h), all else
// kept; escape_text output is printable ASCII only, at most 4 bytes per input byte plus
// "...", and decodes back to the first MAX input bytes, with "..." exactly when the input
// was longer (text_escape.h); quote_text is that in single quotes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "json_text.h"
#include "text_escape.h"

namespace {

// Length of the well-formed UTF-8 sequence at S[I] (Unicode table 3-7), or 0 when it is
// ill-formed; *MAXIMAL is then the length of its maximal subpart (at least 1).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t* maximal) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    *maximal = 1;
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if (i + k >= s.size()) return 0;
        const unsigned char x = b(i + k);
        if (k == 1 ? (x < lo || x > hi) : (x < 0x80 || x > 0xbf)) return 0;
        *maximal = k + 1;
    }
    return n;
}

// S with every maximal ill-formed subsequence replaced by U+FFFD; *VALID when none was.
std::string replaced(std::string_view s, bool* valid) {
    std::string out;
    *valid = true;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t maximal = 0;
        const std::size_t n = utf8_sequence(s, i, &maximal);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xef\xbf\xbd";
            *valid = false;
            i += maximal;
        }
    }
    return out;
}

// escape_text's output back to bytes; nullopt when it is not such an output.
std::optional<std::string> unescape(std::string_view e) {
    std::string out;
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i] != '\\') {
            out += e[i];
            continue;
        }
        if (i + 1 < e.size() && e[i + 1] == '\\') {
            out += '\\';
            ++i;
        } else if (i + 3 < e.size() && e[i + 1] == 'x' && hex(e[i + 2]) >= 0 &&
                   hex(e[i + 3]) >= 0) {
            out += static_cast<char>(hex(e[i + 2]) * 16 + hex(e[i + 3]));
            i += 3;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

void check_escape(std::string_view s, std::size_t max) {
    const std::string e = xa::escape_text(s, max);
    for (const unsigned char c : e)
        if (c < 0x20 || c >= 0x7f) std::abort();
    const std::size_t head = s.size() < max ? s.size() : max;
    if (e.size() > 4 * head + 3) std::abort();
    std::string_view body = e;
    if (s.size() > max) {
        if (!body.ends_with("...")) std::abort();
        body.remove_suffix(3);
    }
    const auto back = unescape(body);
    if (!back || *back != s.substr(0, max)) std::abort();
    if (xa::quote_text(s, max) != "'" + e + "'") std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // The first byte picks escape_text's bound; the rest is the value.
    const std::size_t max = in.empty() ? 0 : static_cast<unsigned char>(in[0]);
    const std::string_view s = in.empty() ? in : in.substr(1);
    check_escape(s, max);
    check_escape(in, xa::kEchoMax);

    nlohmann::ordered_json j;
    j["value"] = s;
    j["list"] = nlohmann::ordered_json::array({s, 1, s});
    j["keys"][std::string(s)] = true;
    std::string text;
    nlohmann::json back;
    try {
        text = xa::json_text(j);
        back = nlohmann::json::parse(text);
    } catch (const std::exception&) {
        std::abort();  // json_text threw, or wrote something that is not JSON
    }
    bool valid = true;
    const std::string want = replaced(s, &valid);
    if (back.size() != 3 || !back["value"].is_string()) std::abort();
    const std::string& value = back["value"].get_ref<const std::string&>();
    if (value != want || (valid && value != s)) std::abort();
    if (back["list"].size() != 3 || back["list"][0] != want || back["list"][2] != want)
        std::abort();
    if (back["keys"].size() != 1 || !back["keys"].contains(want)) std::abort();
    return 0;
}
