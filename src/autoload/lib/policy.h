// Policy: which modules each role loads, which modules are denied, driver-domain mode.
// Files: *.conf in /etc/xen-autoload over /run/xen-autoload over the vendor directory
// (systemd-style masking); format in xen-autoload.conf(5).
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config_error.h"
#include "pci_selector.h"
#include "platform.h"

namespace xa {

class SysRoot;

struct ModuleRequest {
    std::string name;  // as written (may be a legacy name or an alias)
    bool optional = false;
    std::string origin;  // "FILE:LINE"
};

struct DenyRule {
    std::string name;
    std::string origin;
};

// `pciback-hide SELECTOR...`: a PCI device the initial domain gives to xen-pciback
// (pci_hide.h), instead of the xen-pciback.hide=(BDF) kernel parameter.
struct PciHideRule {
    PciSelector selector;
    std::string origin;  // "FILE:LINE"
};

struct Policy {
    // Indexed by Role (none stays empty: role none loads nothing and attempts nothing).
    std::array<std::vector<ModuleRequest>, 4> requests;
    std::vector<DenyRule> deny;
    // In the order read; a selector written twice keeps its first origin. Not role-scoped
    // (like deny): only the dom0 role applies them.
    std::vector<PciHideRule> pciback_hide;
    bool driver_domain = false;
    std::vector<std::string> files;     // files read, in order
    std::vector<std::string> disabled;  // names masked by an empty file or /dev/null link
    // Kept by parse_policy so that parsing and lookups stay linear in the number of names:
    // normalized name -> position in requests[role] / deny.
    std::array<std::unordered_map<std::string, std::size_t>, 4> request_index;
    std::unordered_map<std::string, std::size_t> deny_index;
    // Canonical selector text -> position in pciback_hide.
    std::unordered_map<std::string, std::size_t> pciback_hide_index;

    const std::vector<ModuleRequest>& for_role(Role r) const {
        return requests[static_cast<std::size_t>(r)];
    }
    // The denying rule for NAME ('-' and '_' equal), or nullptr.
    const DenyRule* denied(std::string_view name) const;
};

// Parses one file's text into POLICY. Throws ConfigError naming FILE and the line.
void parse_policy(std::string_view text, const std::string& file, Policy& policy);

// Policy directories, highest precedence first, as absolute paths on the target system
// (they are read below the root).
struct PolicyDirs {
    std::vector<std::string> dirs;
    // Where the vendor directory really is when it is not below the root (--vendor-dir);
    // empty: the last entry of DIRS, below the root.
    std::string vendor_override;
};
PolicyDirs default_policy_dirs();

struct PolicyFile {
    std::string name;  // "default.conf"
    std::string path;  // the file's full path, for messages
    bool disabled = false;
    // Where to read it: REL below the root when IN_ROOT (confined: symlinks resolved
    // inside the root), else the host path PATH (--vendor-dir).
    std::string rel;
    bool in_root = true;
};
// The effective files in lexical order of their names, after masking. A missing directory
// is fine; one that exists but cannot be read throws ConfigError naming it and the errno.
std::vector<PolicyFile> discover_policy_files(const SysRoot& root, const PolicyDirs& dirs);

// Discovers, reads and parses everything. Throws ConfigError.
Policy load_policy(const SysRoot& root, const PolicyDirs& dirs);

// The role the policy applies to: a domU in driver-domain mode is a driver domain.
Role effective_role(Role detected, const Policy& policy);

}  // namespace xa
