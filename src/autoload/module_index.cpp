#include "module_index.h"

#include <memory>
#include <stdexcept>

#include "dynlib.h"
#include "sysfs_parse.h"
#include "sysroot.h"

namespace xa {
namespace {

struct ListDeleter {
    void operator()(kmod_list* l) const { kmod().module_unref_list(l); }
};
using ModList = std::unique_ptr<kmod_list, ListDeleter>;

struct ModDeleter {
    void operator()(kmod_module* m) const { kmod().module_unref(m); }
};
using Mod = std::unique_ptr<kmod_module, ModDeleter>;

// libkmod logs through syslog-ish callbacks; its messages are not ours to print.
void quiet_log(void*, int, const char*, int, const char*, const char*, va_list) {}

}  // namespace

const char* module_state_name(ModuleState s) {
    switch (s) {
        case ModuleState::builtin:
            return "builtin";
        case ModuleState::loaded:
            return "loaded";
        case ModuleState::loadable:
            return "loadable";
        case ModuleState::missing:
            return "missing";
        case ModuleState::blacklisted:
            return "blacklisted";
        case ModuleState::denied:
            return "denied";
    }
    return "missing";
}

std::vector<std::string> modprobe_config_dirs(const SysRoot& root) {
    if (root.is_live()) return {};
    // libkmod's own default list, below the root.
    return {root.path("etc/modprobe.d"), root.path("run/modprobe.d"),
            root.path("usr/local/lib/modprobe.d"), root.path("lib/modprobe.d"),
            root.path("usr/lib/modprobe.d")};
}

kmod_ctx* new_kmod_context(const SysRoot& root, const std::string& kver) {
    const std::string dir = root.path("lib/modules/" + kver);
    const std::vector<std::string> conf = modprobe_config_dirs(root);
    std::vector<const char*> conf_ptrs;
    conf_ptrs.reserve(conf.size() + 1);
    for (const std::string& c : conf) conf_ptrs.push_back(c.c_str());
    conf_ptrs.push_back(nullptr);
    kmod_ctx* ctx = kmod().new_ctx(dir.c_str(), conf.empty() ? nullptr : conf_ptrs.data());
    if (ctx == nullptr) throw std::runtime_error("libkmod: cannot create a context for " + dir);
    kmod().set_log_fn(ctx, quiet_log, nullptr);
    return ctx;
}

std::set<std::string> read_loaded_modules(const SysRoot& root) {
    std::set<std::string> loaded;
    if (const ReadResult r = root.read("proc/modules", std::size_t{4} * 1024 * 1024); r.ok())
        loaded = parse_proc_modules(r.data);
    // A module still initialising is "coming" in sysfs and not yet useful in /proc/modules.
    for (const std::string& name : root.list_dir("sys/module")) {
        const ReadResult s = root.read("sys/module/" + name + "/initstate");
        if (!s.ok()) continue;  // built in (no initstate) or gone
        const std::string_view st = trim(s.data);
        if ((st == "live" || st == "coming") && is_valid_module_name(name))
            loaded.insert(normalize_module_name(name));
    }
    return loaded;
}

KmodIndex::KmodIndex(const SysRoot& root, std::string kver)
    : kver_(std::move(kver)), tree_(root.path("lib/modules/" + kver_)) {
    tree_present_ = root.exists("lib/modules/" + kver_ + "/modules.dep");
    ctx_ = new_kmod_context(root, kver_);
    if (tree_present_) kmod().load_resources(ctx_);  // mmap the indexes once
    // modules.builtin: one path per line, e.g. kernel/drivers/xen/xenbus/xenbus_probe_frontend.ko
    if (const ReadResult b =
            root.read("lib/modules/" + kver_ + "/modules.builtin", std::size_t{4} * 1024 * 1024);
        b.ok()) {
        std::string_view text = b.data;
        while (!text.empty()) {
            const std::size_t nl = text.find('\n');
            std::string_view line = trim(text.substr(0, nl));
            text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
            const std::size_t slash = line.rfind('/');
            if (slash != std::string_view::npos) line.remove_prefix(slash + 1);
            if (line.size() > 3 && line.substr(line.size() - 3) == ".ko") line.remove_suffix(3);
            if (is_valid_module_name(line)) builtin_.insert(normalize_module_name(line));
        }
    }
    loaded_ = read_loaded_modules(root);
    if (kmod_config_iter* it = kmod().config_get_blacklists(ctx_)) {
        while (kmod().config_iter_next(it)) {
            if (const char* k = kmod().config_iter_get_key(it))
                blacklist_.insert(normalize_module_name(k));
        }
        kmod().config_iter_free_iter(it);
    }
}

KmodIndex::~KmodIndex() { kmod().unref(ctx_); }

std::vector<std::string> KmodIndex::resolve(std::string_view name) const {
    std::vector<std::string> names;
    kmod_list* raw = nullptr;
    const std::string n(name);
    if (kmod().module_new_from_lookup(ctx_, n.c_str(), &raw) < 0 || raw == nullptr) {
        // libkmod finds built-in modules through modules.builtin.bin; still accept a name our
        // own reading of modules.builtin or the loaded list knows (a tree removed by a kernel
        // package upgrade while its modules are still loaded).
        const std::string norm = normalize_module_name(name);
        if (builtin_.count(norm) || loaded_.count(norm)) names.push_back(norm);
        return names;
    }
    const ModList list(raw);
    for (kmod_list* l = list.get(); l != nullptr; l = kmod().list_next(list.get(), l)) {
        const Mod m(kmod().module_get_module(l));
        names.emplace_back(kmod().module_get_name(m.get()));
    }
    return names;
}

ModuleState KmodIndex::state(const std::string& module) const {
    const std::string n = normalize_module_name(module);
    if (builtin_.count(n)) return ModuleState::builtin;
    if (loaded_.count(n)) return ModuleState::loaded;
    kmod_module* raw = nullptr;
    if (kmod().module_new_from_name(ctx_, n.c_str(), &raw) < 0) return ModuleState::missing;
    const Mod m(raw);
    // new_from_name always succeeds; the path is known only when modules.dep lists it.
    return kmod().module_get_path(m.get()) != nullptr ? ModuleState::loadable
                                                      : ModuleState::missing;
}

bool KmodIndex::blacklisted(const std::string& module) const {
    return blacklist_.count(normalize_module_name(module)) != 0;
}

std::vector<std::string> KmodIndex::dependencies(const std::string& module) const {
    std::vector<std::string> deps;
    kmod_module* raw = nullptr;
    const std::string n = normalize_module_name(module);
    if (kmod().module_new_from_name(ctx_, n.c_str(), &raw) < 0) return deps;
    const Mod m(raw);
    const ModList list(kmod().module_get_dependencies(m.get()));
    for (kmod_list* l = list.get(); l != nullptr; l = kmod().list_next(list.get(), l)) {
        const Mod d(kmod().module_get_module(l));
        deps.emplace_back(kmod().module_get_name(d.get()));
    }
    return deps;
}

}  // namespace xa
