// The policy parser on arbitrary bytes: it either accepts or throws ConfigError with a
// one-line FILE:LINE message; nothing else (no crash, no other exception).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    xa::Policy policy;
    try {
        xa::parse_policy(text, "fuzz.conf", policy);
        for (const auto& list : policy.requests)
            for (const auto& r : list)
                if (r.name.empty() || r.origin.rfind("fuzz.conf:", 0) != 0) std::abort();
        if (!policy.for_role(xa::Role::none).empty()) std::abort();
        // Every pciback-hide selector accepted has a canonical text that parses back to it.
        for (const auto& h : policy.pciback_hide) {
            const auto again = xa::parse_pci_selector(h.selector.text());
            if (!again || again->text() != h.selector.text() ||
                h.origin.rfind("fuzz.conf:", 0) != 0)
                std::abort();
        }
    } catch (const xa::ConfigError& e) {
        const std::string_view msg = e.what();
        if (msg.rfind("fuzz.conf:", 0) != 0 || msg.find('\n') != std::string_view::npos)
            std::abort();
    }
    return 0;
}
