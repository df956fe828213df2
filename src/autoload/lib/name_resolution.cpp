#include "name_resolution.h"

#include "legacy_names.h"
#include "module_index.h"
#include "sysfs_parse.h"

namespace xa {

NameResolution resolve_policy_name(const ModuleIndex& index, std::string_view name) {
    NameResolution r;
    r.modules = index.resolve(name);
    if (const auto legacy = legacy_replacement(name)) {
        r.legacy = std::string(*legacy);
        if (r.modules.empty() && !legacy->empty()) {
            r.modules = index.resolve(*legacy);
            r.via_legacy = true;
        }
    }
    return r;
}

DeniedModules::DeniedModules(const Policy& policy, const ModuleIndex* index) {
    for (const DenyRule& rule : policy.deny) {
        NameResolution r;
        if (index != nullptr) {
            r = resolve_policy_name(*index, rule.name);
        } else if (const auto legacy = legacy_replacement(rule.name)) {
            r.legacy = std::string(*legacy);
        }
        if (r.modules.empty()) {
            // Not in this tree: keep the name (or the legacy name's mainline name), never
            // an alias, which is no module name.
            const std::string name = r.legacy && !r.legacy->empty() ? *r.legacy : rule.name;
            if (name.find(':') == std::string::npos)
                r.modules.push_back(normalize_module_name(name));
        }
        for (std::string& m : r.modules)
            if (by_module_.try_emplace(m, &rule).second) ordered_.emplace_back(std::move(m), &rule);
    }
}

const DenyRule* DeniedModules::find(std::string_view module) const {
    const auto it = by_module_.find(normalize_module_name(module));
    return it == by_module_.end() ? nullptr : it->second;
}

}  // namespace xa
