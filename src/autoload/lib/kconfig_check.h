// The kernel config check behind `xen-autoload check-kernel`: says for each kernel role
// (kconfig_roles.h: native, dom0, domU-pv, ...) whether a kernel config can work in it,
// symbol by symbol, the way moby's check-config.sh does for containers.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "kconfig_roles.h"
#include "outcome.h"

namespace xa {

// Colour only on a terminal and when NO_COLOR is unset or empty (https://no-color.org).
bool kconfig_use_colour(bool stdout_is_tty, const char* no_color_env);

// The whole verdict; "role"/"works" describe the asked role (when none is asked: role null,
// works true when at least one role works).
nlohmann::ordered_json kconfig_verdict_json(const KconfigVerdict& v, const std::string& asked);
// Every role, or only ASKED when not empty.
std::string kconfig_verdict_text(const KconfigVerdict& v, const std::string& asked, bool colour);

// "native, dom0, ...": the kernel roles check_kernel knows, for messages.
std::string kconfig_role_names();

struct CheckKernelOptions {
    std::string config;  // empty: the running kernel's
    std::string role;    // a kernel role (kconfig_roles.h); empty: report every role
    bool json = false;
    bool colour = false;
};

struct CheckKernelResult {
    // ok: the asked role works (or no role asked); failed: it cannot work.
    Outcome outcome = Outcome::ok;
    std::string report;  // text or JSON, for stdout
};

// Reads the config (OPTIONS.config, else the running kernel's) and judges every role.
// Throws ConfigError for an unknown role, an unreadable or a malformed config.
CheckKernelResult check_kernel(const CheckKernelOptions& options);

}  // namespace xa
