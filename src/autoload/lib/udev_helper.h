// Backend device requests: a xen-backend device (<type>-<domid>-<devid>, MODALIAS
// xen-backend:<type>) asks for its driver. Shared by the udev helper mode
// (`xen-autoload udev MODALIAS [DEVPATH]`, run by 70-xen-autoload.rules) and the daemon's
// uevent loop: validate the alias, name the asking domain, apply the deny policy, load
// through libkmod with a deadline, log one line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "deadlines.h"
#include "loader.h"
#include "policy.h"

namespace xa {

class ModuleIndex;

// Why ALIAS is refused, for a one-line error; nothing when it is acceptable: xen-backend:<type>
// or xen:<type>, <type> of [a-z0-9_-] (1..32 characters).
std::optional<std::string> check_alias(std::string_view alias);

// Who asked: parsed from the device name of DEVPATH ("/devices/xen-backend/vif-3-0").
struct BackendDevice {
    std::string name;  // "vif-3-0"
    std::string type;  // "vif"
    unsigned domid = 0;
    unsigned devid = 0;
};
std::optional<BackendDevice> parse_backend_devpath(std::string_view devpath);

struct BackendRequest {
    std::string alias;    // MODALIAS
    std::string devpath;  // may be empty (helper run by hand)
};

struct BackendOutcome {
    enum class Kind {
        loaded,
        present,
        denied,
        failed,
        unresolved,
        user_space,
        not_for_role  // the role loads no backends (none, or a domU that is no driver domain)
    } kind = Kind::failed;
    std::string module;   // resolved module (kernel spelling), "" when unresolved
    std::string message;  // the line that was logged
    // The insertion overran the deadline and a worker is still stuck in the kernel: the
    // caller's process must end without waiting for it (the tools end it at once).
    bool timed_out = false;
    // Loaded, present, denied, served in user space or not for the role: nothing went wrong.
    bool ok() const { return kind != Kind::failed && kind != Kind::unresolved; }
};

struct BackendOptions {
    // The effective role (detected, or driver-domain by policy). Only dom0 and
    // driver-domain load backends; none and a plain domU load nothing and say why.
    Role role = Role::none;
    bool dry_run = false;
    std::chrono::milliseconds deadline{deadlines::kModule};
};

// Refuses the request when OPTS.role loads no backends; resolves REQ.alias through INDEX,
// refuses denied modules (policy deny rules resolved through names, aliases and legacy
// names, or a modprobe.d blacklist), else inserts through FACTORY. Logs one line (REQ's
// values escaped and bounded, text_escape.h). The alias must have passed check_alias.
BackendOutcome handle_backend_request(const BackendRequest& req, const Policy& policy,
                                      const ModuleIndex& index, const InserterFactory& factory,
                                      const BackendOptions& opts);

}  // namespace xa
