// A kernel .config as data: parsing, and finding/reading the running kernel's config.
//
// Sources, in the order check-kernel tries them: --config FILE, /proc/config.gz
// (CONFIG_IKCONFIG_PROC), /boot/config-$(uname -r). Compressed files (gzip, xz; told by
// their magic bytes, not their names) are decompressed by a child gzip/xz run with a fixed
// argv and the file as its stdin; see kconfig_config.cpp for why not a library.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config_error.h"

namespace xa {

// What a symbol is in one config: y, m, not set/absent, or a non-tristate value
// (string, int, hex).
enum class KconfigState { builtin, module, missing, value };

std::string_view kconfig_state_name(KconfigState s);  // "enabled", "module", "missing", "set"

class KernelConfig {
  public:
    // Parses .config text. Accepts `CONFIG_X=VALUE`, `# CONFIG_X is not set`, comments and
    // blank lines; anything else is an error naming ORIGIN, the line number and the line.
    // As in the kernel's own reader, a later line for a symbol overrides an earlier one
    // (a fragment appended to a config): `CONFIG_X=n` and `# CONFIG_X is not set` unset X.
    // Throws ConfigError on failure.
    static KernelConfig parse(std::string_view text, const std::string& origin);

    // Symbol names are given without the CONFIG_ prefix ("XEN_DOM0").
    KconfigState state(std::string_view symbol) const;
    // Raw value ("y", "m", "\"-xen-autoload\"") or empty when not set/absent.
    std::string value(std::string_view symbol) const;
    std::size_t size() const { return values_.size(); }
    // The "# Linux/x86 6.1.192 Kernel Configuration" header's version, when present.
    const std::string& kernel_version() const { return kernel_version_; }

  private:
    std::map<std::string, std::string, std::less<>> values_;  // only symbols with a value
    std::string kernel_version_;
};

struct ConfigText {
    std::string origin;  // the path actually read
    std::string text;    // decompressed contents
};

// Reads PATH (plain, gzip or xz). Throws ConfigError, one line: "PATH: what: value".
ConfigText read_config_file(const std::string& path);

// The running kernel's config: /proc/config.gz, else /boot/config-RELEASE (RELEASE from
// uname). Throws ConfigError naming every place tried.
ConfigText read_running_config();

}  // namespace xa
