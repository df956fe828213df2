// ModuleIndex: what the kernel's module tree says about a name (resolution through names and
// aliases, built in or not, loaded or not, blacklisted, dependencies). The real one reads
// ROOT/lib/modules/KVER through libkmod; unit tests may use a small fake.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sysroot.h"

struct kmod_ctx;

namespace xa {

enum class ModuleState { builtin, loaded, loadable, missing, blacklisted, denied };
const char* module_state_name(ModuleState s);
// In the kernel already: built in or loaded.
inline bool is_present(ModuleState s) {
    return s == ModuleState::builtin || s == ModuleState::loaded;
}

class ModuleIndex {
  public:
    virtual ~ModuleIndex() = default;
    virtual std::string kernel() const = 0;
    // Where the tree is, for messages ("/lib/modules/6.1.0-26-amd64").
    virtual std::string tree() const = 0;
    // Module names (kernel spelling, '_') NAME resolves to as a module name or an alias;
    // empty when nothing matches.
    virtual std::vector<std::string> resolve(std::string_view name) const = 0;
    // builtin, loaded, loadable or missing.
    virtual ModuleState state(const std::string& module) const = 0;
    // Why MODULE is missing when the tree says more than "not in it", for the plan's reason:
    // its file is listed in modules.dep but gone, or the tree's indexes are unusable.
    // Empty when MODULE is plainly not in the tree (or not missing).
    virtual std::string missing_cause(const std::string& /*module*/) const { return {}; }
    // Blacklisted in modprobe.d (or modprobe.blacklist= on the kernel command line: under a
    // root, ROOT/proc/cmdline, never the host's).
    virtual bool blacklisted(const std::string& module) const = 0;
    // Direct dependencies from modules.dep (kernel spelling).
    virtual std::vector<std::string> dependencies(const std::string& module) const = 0;
};

// libkmod's configuration directories relative to a root (its default list).
std::vector<std::string> modprobe_config_dirs_rel();
// libkmod's configuration directories below ROOT (null-terminated list for kmod_new), or
// an empty vector for the live system (libkmod's defaults).
std::vector<std::string> modprobe_config_dirs(const SysRoot& root);

// Under a root (not the live system): vets every file libkmod would open before it sees
// the tree: lib/modules/KVER/modules.{dep,alias,symbols,builtin,builtin.alias}.bin,
// modules.builtin.modinfo, modules.softdep, modules.devname and each *.conf/*.alias of the
// modprobe.d directories must be absent or a regular file (symlinks resolved inside the
// root, none leading out) within a size cap; else ConfigError (exit 2) naming the file.
// A FIFO would hang libkmod, /dev/zero would eat memory. Returns the names the root's
// modprobe.d files blacklist.
std::set<std::string> check_root_tree(const SysRoot& root, const std::string& kver);

// Creates a libkmod context for ROOT/lib/modules/KVER with ROOT's modprobe.d directories,
// after check_root_tree; libkmod's messages go to our log (debug level). Throws
// ConfigError or std::runtime_error. The caller owns the context (kmod_unref).
kmod_ctx* new_kmod_context(const SysRoot& root, const std::string& kver);
// The same without the check (done already).
kmod_ctx* new_checked_kmod_context(const SysRoot& root, const std::string& kver);

// Loaded modules: ROOT/proc/modules plus ROOT/sys/module/NAME/initstate.
std::set<std::string> read_loaded_modules(const SysRoot& root);

class KmodIndex final : public ModuleIndex {
  public:
    // COUNT_LOADED false: KVER is not the kernel running in ROOT, so nothing of it is loaded
    // (ROOT's loaded modules belong to another kernel).
    KmodIndex(const SysRoot& root, std::string kver, bool count_loaded = true);
    ~KmodIndex() override;
    KmodIndex(const KmodIndex&) = delete;
    KmodIndex& operator=(const KmodIndex&) = delete;

    std::string kernel() const override { return kver_; }
    std::string tree() const override { return tree_; }
    // False when ROOT/lib/modules/KVER has no modules.dep (no tree for this kernel).
    bool tree_present() const { return tree_present_; }
    // The tree is there (modules.dep) but libkmod cannot use its binary indexes
    // (kmod_load_resources fails, and libkmod does not fall back to the text files): one
    // line naming the index file and the remedy, "TREE/modules.dep.bin: not a usable
    // module index (corrupt?): run 'depmod KVER'". Every lookup then finds nothing.
    const std::optional<std::string>& index_problem() const { return index_problem_; }
    std::vector<std::string> resolve(std::string_view name) const override;
    // A module whose modules.dep path names no file (resolved inside the root) is missing:
    // libkmod would hand its path to the kernel and fail.
    ModuleState state(const std::string& module) const override;
    std::string missing_cause(const std::string& module) const override;
    bool blacklisted(const std::string& module) const override;
    std::vector<std::string> dependencies(const std::string& module) const override;

  private:
    // Root-relative path of MODULE's file as modules.dep lists it; nullopt when not listed.
    std::optional<std::string> listed_file(const std::string& module) const;
    // The listed file of MODULE is not there (ENOENT, ENOTDIR inside the root).
    bool file_gone(const std::string& rel) const;

    SysRoot root_;
    std::string kver_;
    std::string tree_;
    bool tree_present_ = false;
    std::optional<std::string> index_problem_;
    std::string index_file_;  // the index index_problem_ names
    kmod_ctx* ctx_ = nullptr;
    std::set<std::string> builtin_;
    std::set<std::string> loaded_;
    std::set<std::string> blacklist_;
};

}  // namespace xa
