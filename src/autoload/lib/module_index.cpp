#include "module_index.h"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "dynlib.h"
#include "log.h"
#include "policy.h"
#include "sysfs_parse.h"
#include "sysroot.h"
#include "text_escape.h"
#include "text_lines.h"

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

// libkmod's own messages ("libkmod: ERROR ...") go through our log, escaped, at debug level:
// they are details behind our own one-line results, never raw lines on stderr. (Messages
// from inside kmod_new, before this is installed, are muted by KMOD_LOG=0: tools/main.cpp.)
void kmod_log(void*, int priority, const char*, int, const char*, const char* format,
              va_list args) {
    std::array<char, 512> buf{};
    std::vsnprintf(buf.data(), buf.size(), format, args);
    std::string_view msg(buf.data());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.remove_suffix(1);
    log_debug("libkmod (priority " + std::to_string(priority) + "): " + escape_text(msg, 400));
}

constexpr std::size_t kIndexFileMax = std::size_t{256} * 1024 * 1024;  // modules.*.bin
constexpr std::size_t kConfigFileMax = std::size_t{1024} * 1024;       // modprobe.d, softdep

[[noreturn]] void refuse(const SysRoot& root, const std::string& rel, const std::string& why) {
    throw ConfigError(root.path(rel) + ": not handed to libkmod: '" + why + "'");
}

// REL names the same object whether libkmod resolves it on the host or we resolve it
// inside the root: else a symlink leads out of the root.
void check_confined(const SysRoot& root, const std::string& rel) {
    int err = 0;
    const auto inside = root.resolve(rel, &err);
    char* host = ::realpath(root.path(rel).c_str(), nullptr);
    std::string host_path = host != nullptr ? host : "";
    std::free(host);  // NOLINT(cppcoreguidelines-no-malloc)
    if (!inside) {
        if (host_path.empty()) return;  // missing either way: libkmod copes
        refuse(root, rel, "symbolic link leads out of the root");
    }
    char* in = ::realpath(inside->c_str(), nullptr);
    const std::string in_path = in != nullptr ? in : "";
    std::free(in);  // NOLINT(cppcoreguidelines-no-malloc)
    if (in_path != host_path) refuse(root, rel, "symbolic link leads out of the root");
}

// A file libkmod will open: absent, or a regular file inside the root of at most MAX bytes.
void check_file(const SysRoot& root, const std::string& rel, std::size_t max) {
    check_confined(root, rel);
    struct stat st {};
    if (const int r = root.stat(rel, &st); r < 0) {
        if (r == -ENOENT) return;
        refuse(root, rel, errno_text(-r));
    }
    if (!S_ISREG(st.st_mode))
        refuse(root, rel, std::string(file_type_name(st.st_mode)) + ", not a regular file");
    if (static_cast<std::size_t>(st.st_size) > max)
        refuse(root, rel, "larger than " + std::to_string(max) + " bytes");
}

// "blacklist NAME" lines of a modprobe.d file (for telling the root's blacklist from the
// host's kernel command line, see below).
void add_blacklist_lines(std::string_view text, std::set<std::string>& out) {
    Lines lines(text);
    while (const auto next = lines.next()) {
        std::string_view line = trim(*next);
        if (!line.starts_with("blacklist") || line.size() < 10 ||
            (line[9] != ' ' && line[9] != '\t'))
            continue;
        line = trim(line.substr(10));
        line = line.substr(0, line.find_first_of(" \t#"));
        if (!line.empty()) out.insert(normalize_module_name(line));
    }
}

// libkmod's binary indexes in the order kmod_load_resources opens them (libkmod.c,
// index_files[]); it stops at the first it cannot open, except modules.builtin.alias.bin
// (optional: older trees lack it).
struct KmodIndexFile {
    kmod_index type;
    const char* file;
    bool required;
};
constexpr std::array<KmodIndexFile, 5> kKmodIndexes{{
    {KMOD_INDEX_MODULES_DEP, "modules.dep.bin", true},
    {KMOD_INDEX_MODULES_ALIAS, "modules.alias.bin", true},
    {KMOD_INDEX_MODULES_SYMBOL, "modules.symbols.bin", true},
    {KMOD_INDEX_MODULES_BUILTIN_ALIAS, "modules.builtin.alias.bin", false},
    {KMOD_INDEX_MODULES_BUILTIN, "modules.builtin.bin", true},
}};

// kmod_load_resources failed with ERR: which index, and why, in one line with the remedy.
// libkmod says only "magic check fail" in its log; kmod_dump_index opens one index with
// the same check (magic and major version) and fails for the one it cannot use. The
// indexes before the culprit are dumped to /dev/null: a few milliseconds, on this
// failure path only.
struct IndexProblem {
    std::string file;  // the index at fault (the tree's directory when none is singled out)
    std::string line;  // file, what is wrong, remedy
};
IndexProblem describe_index_problem(const SysRoot& root, const std::string& kver, kmod_ctx* ctx,
                                    int err) {
    const std::string dir = "lib/modules/" + kver + "/";
    const std::string remedy = ": run 'depmod " + kver + "'";
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    IndexProblem problem;
    for (const KmodIndexFile& f : kKmodIndexes) {
        if (!f.required) continue;
        const std::string rel = dir + f.file;
        if (!root.exists(rel)) {
            problem.file = root.path(rel);
            problem.line = problem.file + ": missing, though modules.dep is there" + remedy;
            break;
        }
        if (devnull >= 0 && kmod().dump_index(ctx, f.type, devnull) < 0) {
            problem.file = root.path(rel);
            problem.line = problem.file + ": not a usable module index (corrupt?)" + remedy;
            break;
        }
    }
    if (devnull >= 0) ::close(devnull);
    if (problem.line.empty()) {
        problem.file = root.path("lib/modules/" + kver);
        problem.line =
            problem.file + ": libkmod cannot load the module indexes: " + errno_text(-err) + remedy;
    }
    return problem;
}

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

std::vector<std::string> modprobe_config_dirs_rel() {
    // libkmod's own default list.
    return {"etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "lib/modprobe.d",
            "usr/lib/modprobe.d"};
}

std::vector<std::string> modprobe_config_dirs(const SysRoot& root) {
    if (root.is_live()) return {};
    std::vector<std::string> dirs;
    for (const std::string& d : modprobe_config_dirs_rel()) dirs.push_back(root.path(d));
    return dirs;
}

std::set<std::string> check_root_tree(const SysRoot& root, const std::string& kver) {
    std::set<std::string> blacklisted;
    if (root.is_live()) return blacklisted;
    const std::string dir = "lib/modules/" + kver;
    check_confined(root, dir);
    for (const char* f : {"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin",
                          "modules.builtin.bin", "modules.builtin.alias.bin"})
        check_file(root, dir + "/" + f, kIndexFileMax);
    check_file(root, dir + "/modules.builtin.modinfo", kIndexFileMax);
    check_file(root, dir + "/modules.softdep", kConfigFileMax);
    check_file(root, dir + "/modules.devname", kConfigFileMax);
    for (const std::string& cdir : modprobe_config_dirs_rel()) {
        check_confined(root, cdir);
        for (const std::string& name : root.list_dir(cdir)) {
            // libkmod reads *.conf (and legacy *.alias) files; it skips the rest.
            if (!name.ends_with(".conf") && !name.ends_with(".alias")) continue;
            std::string rel = cdir;
            rel += '/';
            rel += name;
            check_file(root, rel, kConfigFileMax);
            if (const ReadResult r = root.read(rel, kConfigFileMax); r.ok())
                add_blacklist_lines(r.data, blacklisted);
        }
    }
    return blacklisted;
}

kmod_ctx* new_kmod_context(const SysRoot& root, const std::string& kver) {
    (void)check_root_tree(root, kver);
    return new_checked_kmod_context(root, kver);
}

kmod_ctx* new_checked_kmod_context(const SysRoot& root, const std::string& kver) {
    const std::string dir = root.path("lib/modules/" + kver);
    const std::vector<std::string> conf = modprobe_config_dirs(root);
    std::vector<const char*> conf_ptrs;
    conf_ptrs.reserve(conf.size() + 1);
    for (const std::string& c : conf) conf_ptrs.push_back(c.c_str());
    conf_ptrs.push_back(nullptr);
    kmod_ctx* ctx = kmod().new_ctx(dir.c_str(), conf.empty() ? nullptr : conf_ptrs.data());
    if (ctx == nullptr) throw std::runtime_error("libkmod: cannot create a context for " + dir);
    kmod().set_log_fn(ctx, kmod_log, nullptr);
    kmod().set_log_priority(ctx, log_level() == LogLevel::debug ? LOG_INFO : LOG_ERR);
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

KmodIndex::KmodIndex(const SysRoot& root, std::string kver, bool count_loaded)
    : root_(root), kver_(std::move(kver)), tree_(root.path("lib/modules/" + kver_)) {
    tree_present_ = root.exists("lib/modules/" + kver_ + "/modules.dep");
    const std::set<std::string> root_blacklist = check_root_tree(root, kver_);
    ctx_ = new_checked_kmod_context(root, kver_);
    // mmap the indexes once; libkmod's own check of them (magic, version) decides whether
    // the tree can be used at all.
    if (tree_present_)
        if (const int err = kmod().load_resources(ctx_); err < 0) {
            IndexProblem p = describe_index_problem(root, kver_, ctx_, err);
            index_problem_ = std::move(p.line);
            index_file_ = std::move(p.file);
        }
    // modules.builtin: one path per line, e.g. kernel/drivers/xen/xenbus/xenbus_probe_frontend.ko
    if (const ReadResult b =
            root.read("lib/modules/" + kver_ + "/modules.builtin", std::size_t{4} * 1024 * 1024);
        b.ok()) {
        Lines lines(b.data);
        while (const auto next = lines.next()) {
            std::string_view line = trim(*next);
            const std::size_t slash = line.rfind('/');
            if (slash != std::string_view::npos) line.remove_prefix(slash + 1);
            if (line.size() > 3 && line.substr(line.size() - 3) == ".ko") line.remove_suffix(3);
            if (is_valid_module_name(line)) builtin_.insert(normalize_module_name(line));
        }
    }
    if (count_loaded) loaded_ = read_loaded_modules(root);
    if (kmod_config_iter* it = kmod().config_get_blacklists(ctx_)) {
        while (kmod().config_iter_next(it)) {
            if (const char* k = kmod().config_iter_get_key(it))
                blacklist_.insert(normalize_module_name(k));
        }
        kmod().config_iter_free_iter(it);
    }
    if (!root.is_live()) {
        // libkmod always reads the HOST's /proc/cmdline (modprobe.blacklist=) and cannot be
        // pointed elsewhere: take the host's entries back out (unless the root's modprobe.d
        // blacklists them too) and apply ROOT/proc/cmdline instead (absent: empty).
        if (const ReadResult host = SysRoot().read("/proc/cmdline"); host.ok())
            for (const std::string& m : parse_cmdline_blacklist(host.data))
                if (!root_blacklist.count(m)) blacklist_.erase(m);
        if (const ReadResult own = root.read("proc/cmdline"); own.ok())
            for (const std::string& m : parse_cmdline_blacklist(own.data)) blacklist_.insert(m);
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
    const std::optional<std::string> file = listed_file(n);
    return file && !file_gone(*file) ? ModuleState::loadable : ModuleState::missing;
}

std::string KmodIndex::missing_cause(const std::string& module) const {
    if (index_problem_) return "cannot be looked up: " + index_file_ + " is unusable";
    const std::string n = normalize_module_name(module);
    if (builtin_.count(n) || loaded_.count(n)) return {};
    const std::optional<std::string> file = listed_file(n);
    if (!file || !file_gone(*file)) return {};
    return "module file missing: " + root_.path(*file) +
           " (listed in modules.dep; reinstall the kernel package or run depmod)";
}

std::optional<std::string> KmodIndex::listed_file(const std::string& module) const {
    kmod_module* raw = nullptr;
    if (kmod().module_new_from_name(ctx_, module.c_str(), &raw) < 0) return std::nullopt;
    const Mod m(raw);
    // new_from_name always succeeds; the path is known only when modules.dep lists it.
    const char* path = kmod().module_get_path(m.get());
    if (path == nullptr) return std::nullopt;
    // libkmod joins a relative modules.dep path to its (absolute) directory: that part is
    // ROOT/lib/modules/KVER. An absolute path in modules.dep is taken inside the root.
    const std::string_view p(path);
    const std::string dir = std::string(kmod().get_dirname(ctx_)) + "/";
    if (p.starts_with(dir)) return "lib/modules/" + kver_ + "/" + std::string(p.substr(dir.size()));
    return std::string(p);
}

bool KmodIndex::file_gone(const std::string& rel) const {
    struct stat st {};
    const int r = root_.stat(rel, &st);
    // Other errors (EACCES...) are left to the insertion, which names them.
    return r == -ENOENT || r == -ENOTDIR;
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
