// How a policy name becomes kernel module names, the same way for require, optional and
// deny (xen-autoload.conf(5)): libkmod first (module name or alias, "xen-backend:vif"),
// then the legacy map of legacy_names.cpp ("netbk" -> xen-netback -> xen_netback).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy.h"

namespace xa {

class ModuleIndex;

struct NameResolution {
    std::vector<std::string> modules;  // kernel spelling; empty when nothing matches
    // NAME is a legacy name: its mainline name ("" when there is none).
    std::optional<std::string> legacy;
    bool via_legacy = false;  // MODULES came from the legacy map, not from NAME itself
};

NameResolution resolve_policy_name(const ModuleIndex& index, std::string_view name);

// The modules the deny rules name, resolved as above; a rule that resolves to nothing
// still denies its own name (normalized) so that a module appearing later is refused.
class DeniedModules {
  public:
    // Without an INDEX, every rule denies just its own (or its legacy name's) module name.
    DeniedModules(const Policy& policy, const ModuleIndex* index);
    // The rule denying MODULE (kernel spelling or '-' form), or nullptr.
    const DenyRule* find(std::string_view module) const;
    // (module, rule) in the order of the rules, each module once, for the deny list.
    const std::vector<std::pair<std::string, const DenyRule*>>& all() const { return ordered_; }

  private:
    // POLICY must outlive this.
    std::map<std::string, const DenyRule*> by_module_;
    std::vector<std::pair<std::string, const DenyRule*>> ordered_;
};

}  // namespace xa
