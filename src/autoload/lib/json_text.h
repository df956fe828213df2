// JSON output that never throws: every string the program prints comes from the system
// (file names, module names, sysfs contents) and need not be UTF-8. nlohmann's strict dump
// throws type_error.316 on such bytes; here each invalid sequence becomes U+FFFD instead
// (xen-autoload(8), JSON OUTPUT).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace xa {

// Pretty-printed (2 spaces), non-ASCII kept as UTF-8, invalid UTF-8 replaced by U+FFFD.
inline std::string json_text(const nlohmann::ordered_json& j) {
    return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace xa
