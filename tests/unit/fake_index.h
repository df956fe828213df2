// A small in-memory ModuleIndex for plan and loader unit tests (the real one is tested on
// Debian's module tree in tests/moduletree).
#pragma once

#include <map>
#include <set>

#include "module_index.h"
#include "sysfs_parse.h"

namespace xa::test {

class FakeIndex final : public ModuleIndex {
  public:
    std::map<std::string, std::string> aliases;  // alias -> module
    std::map<std::string, ModuleState> states;   // module -> builtin/loaded/loadable/missing
    std::map<std::string, std::vector<std::string>> deps;
    std::set<std::string> blacklist;
    std::map<std::string, std::string> causes;  // module -> missing_cause

    std::string kernel() const override { return "6.1.0-56-amd64"; }
    std::string tree() const override { return "/lib/modules/6.1.0-56-amd64"; }
    std::vector<std::string> resolve(std::string_view name) const override {
        const std::string n = normalize_module_name(name);
        if (states.count(n)) return {n};
        if (const auto it = aliases.find(std::string(name)); it != aliases.end())
            return {it->second};
        return {};
    }
    ModuleState state(const std::string& m) const override {
        const auto it = states.find(m);
        return it == states.end() ? ModuleState::missing : it->second;
    }
    std::string missing_cause(const std::string& m) const override {
        const auto it = causes.find(m);
        return it == causes.end() ? std::string() : it->second;
    }
    bool blacklisted(const std::string& m) const override { return blacklist.count(m) != 0; }
    std::vector<std::string> dependencies(const std::string& m) const override {
        const auto it = deps.find(m);
        return it == deps.end() ? std::vector<std::string>{} : it->second;
    }
};

}  // namespace xa::test
