// The kernel config parser and the role verdict on arbitrary text. Properties checked: the
// parser agrees with a line-by-line model of the format (CONFIG_X=VALUE sets X, a later line
// for X overrides an earlier one, CONFIG_X=n and "# CONFIG_X is not set" unset it, comments
// and blank lines are ignored, anything else is an error) on whether the text is accepted
// and on every symbol's state and value; a refusal is one printable line naming the file;
// every state is one of the four and matches the value; the verdict is deterministic and
// consistent (a role works exactly when it has no problem, an entry is satisfied exactly by
// a built-in or module alternative); an extra comment line, a blank line or CRLF line ends
// change nothing; the JSON verdict always dumps and parses back; the text verdict holds no
// control character but its newlines. The checks that cost a whole parse or verdict again
// (determinism, the whole JSON verdict, the three line variants) each take a share of the
// inputs, chosen by size, which the mutations keep changing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_text.h"
#include "kconfig_check.h"
#include "kconfig_config.h"
#include "kconfig_roles.h"

namespace {

const std::string kOrigin = "fuzz.config";

bool valid_symbol(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

// The format, line by line; nullopt when the text is not a config.
std::optional<std::map<std::string, std::string>> model(std::string_view text) {
    std::map<std::string, std::string> values;
    constexpr std::string_view kPrefix = "CONFIG_";
    constexpr std::string_view kNotSet = " is not set";
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.empty()) continue;
        if (line.front() == '#') {
            if (line.size() > 9 + kNotSet.size() && line.starts_with("# CONFIG_") &&
                line.ends_with(kNotSet)) {
                const std::string_view sym = line.substr(9, line.size() - 9 - kNotSet.size());
                if (valid_symbol(sym)) values.erase(std::string(sym));
            }
            continue;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || eq + 1 >= line.size()) return std::nullopt;
        const std::string_view symbol = line.substr(0, eq);
        if (!symbol.starts_with(kPrefix) || !valid_symbol(symbol.substr(kPrefix.size())))
            return std::nullopt;
        const std::string name(symbol.substr(kPrefix.size()));
        const std::string_view value = line.substr(eq + 1);
        if (value == "n")
            values.erase(name);
        else
            values.insert_or_assign(name, std::string(value));
    }
    if (values.empty()) return std::nullopt;
    return values;
}

void check_state(const xa::KernelConfig& config, const std::string& symbol,
                 const std::string* expected) {
    const xa::KconfigState s = config.state(symbol);
    const std::string value = config.value(symbol);
    switch (s) {
        case xa::KconfigState::builtin:
            if (value != "y") std::abort();
            break;
        case xa::KconfigState::module:
            if (value != "m") std::abort();
            break;
        case xa::KconfigState::missing:
            if (!value.empty()) std::abort();
            break;
        case xa::KconfigState::value:
            if (value.empty() || value == "y" || value == "m") std::abort();
            break;
        default:
            std::abort();  // not one of the four
    }
    if ((expected == nullptr) != value.empty()) std::abort();
    if (expected != nullptr && *expected != value) std::abort();
}

bool satisfies(xa::KconfigState s) {
    return s == xa::KconfigState::builtin || s == xa::KconfigState::module;
}

void check_verdict(const xa::KernelConfig& config, const xa::KconfigVerdict& v) {
    if (v.roles.size() != xa::kconfig_roles().size()) std::abort();
    for (const auto& r : v.roles) {
        if (r.works != r.problems.empty()) std::abort();
        for (const auto* list : {&r.required, &r.optional})
            for (const auto& e : *list) {
                bool any = false;
                for (const auto& s : e.symbols) any = any || satisfies(config.state(s));
                if (any == e.satisfied_by.empty()) std::abort();
                if (!e.satisfied_by.empty() &&
                    (config.state(e.satisfied_by) != e.state || !satisfies(e.state)))
                    std::abort();
                if (e.satisfied_by.empty() && e.state != xa::KconfigState::missing) std::abort();
            }
        for (const auto& w : r.working_roles) {
            const xa::KconfigRoleResult* needed = v.role(w);
            if (needed == nullptr || !needed->works) std::abort();
        }
    }
}

bool same_entries(const std::vector<xa::KconfigEntryResult>& a,
                  const std::vector<xa::KconfigEntryResult>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].symbols != b[i].symbols || a[i].satisfied_by != b[i].satisfied_by ||
            a[i].state != b[i].state || a[i].why != b[i].why)
            return false;
    return true;
}

bool same_verdict(const xa::KconfigVerdict& a, const xa::KconfigVerdict& b) {
    if (a.origin != b.origin || a.kernel_version != b.kernel_version ||
        a.roles.size() != b.roles.size())
        return false;
    for (std::size_t i = 0; i < a.roles.size(); ++i) {
        const auto &x = a.roles[i], &y = b.roles[i];
        if (x.name != y.name || x.works != y.works || x.problems != y.problems ||
            x.working_roles != y.working_roles || !same_entries(x.required, y.required) ||
            !same_entries(x.optional, y.optional))
            return false;
    }
    return true;
}

// KernelConfig::parse, its ConfigError as *ERROR.
std::optional<xa::KernelConfig> parse(std::string_view text, std::string* error) {
    try {
        return xa::KernelConfig::parse(text, kOrigin);
    } catch (const xa::ConfigError& e) {
        *error = e.what();
        return std::nullopt;
    }
}

// Whether TEXT parses to the same config as the one EXPECTED describes (every symbol of a
// config of that size has the expected value, the header's version too).
bool parses_to(std::string_view text, const xa::KernelConfig& config,
               const std::map<std::string, std::string>& expected) {
    std::string error;
    const auto other = parse(text, &error);
    if (!other || other->size() != config.size() ||
        other->kernel_version() != config.kernel_version())
        return false;
    for (const auto& [symbol, value] : expected)
        if (other->value(symbol) != value) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const std::optional<xa::KernelConfig> config = parse(text, &error);
    const auto expected = model(text);
    if (config.has_value() != expected.has_value()) std::abort();
    if (!config) {
        if (!error.starts_with(kOrigin + ":")) std::abort();
        for (const unsigned char c : error)
            if (c < 0x20 || c >= 0x7f) std::abort();  // one printable line
        return 0;
    }

    // Every symbol: the model's, and every one a role looks at.
    if (config->size() != expected->size()) std::abort();
    for (const auto& [symbol, value] : *expected) check_state(*config, symbol, &value);
    for (const auto& spec : xa::kconfig_roles())
        for (const auto* list : {&spec.required, &spec.optional})
            for (const auto& req : *list)
                for (const std::string_view s : req.any_of) {
                    const auto it = expected->find(std::string(s));
                    check_state(*config, std::string(s),
                                it == expected->end() ? nullptr : &it->second);
                }
    if (!config->kernel_version().empty() &&
        text.find(config->kernel_version()) == std::string_view::npos)
        std::abort();

    const xa::KconfigVerdict verdict = xa::check_kernel_config(*config, kOrigin);
    check_verdict(*config, verdict);
    // Deterministic: a second verdict, for one input in 16 (as the whole JSON verdict below).
    if (size % 16 == 0 && !same_verdict(verdict, xa::check_kernel_config(*config, kOrigin)))
        std::abort();
    // The JSON verdict, for one role (which one: from the size) and for none. Its only bytes
    // from the input are the header's kernel version: that field must dump and parse back
    // to a string for every input that has one. The whole verdict is slow to build (half
    // of this target's time when it was built for every such input), so for one input in 16.
    if (!config->kernel_version().empty()) {
        nlohmann::ordered_json field;
        field["kernel_version"] = config->kernel_version();
        try {
            if (!nlohmann::json::parse(xa::json_text(field))["kernel_version"].is_string())
                std::abort();
        } catch (const std::exception&) {
            std::abort();
        }
    }
    if (size % 16 == 0) {
        const std::string role(xa::kconfig_roles()[size % xa::kconfig_roles().size()].name);
        if (xa::kconfig_verdict_json(verdict, role)["works"] != verdict.role(role)->works)
            std::abort();
        try {
            const auto back =
                nlohmann::json::parse(xa::json_text(xa::kconfig_verdict_json(verdict, "")));
            if (back["roles"].size() != verdict.roles.size()) std::abort();
            if (!config->kernel_version().empty() && !back["kernel_version"].is_string())
                std::abort();
        } catch (const std::exception&) {
            std::abort();
        }
    }
    for (const unsigned char c : xa::kconfig_verdict_text(verdict, "", false))
        if ((c < 0x20 && c != '\n') || c == 0x7f) std::abort();

    // Comments, blank lines and line ends do not matter: one of the three variants per input
    // (which one: from the size), since each is a whole parse again. The mutations change
    // the size, so every variant meets the whole corpus.
    const std::string s(text);
    std::string variant;
    if (size % 3 == 0) {
        variant = "# fuzz: a comment\n" + s;
    } else if (size % 3 == 1 || s.find('\r') != std::string::npos) {
        variant = s + "\n# fuzz: a comment\n\n";
    } else {
        for (const char c : s) variant += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    if (!parses_to(variant, *config, *expected)) std::abort();
    return 0;
}
