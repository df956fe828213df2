#include "dynlib.h"

#include <dlfcn.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>

namespace xa {
namespace {

template <typename Fn>
void bind(void* lib, const char* soname, const char* symbol, Fn& out) {
    void* p = ::dlsym(lib, symbol);
    if (p == nullptr) throw std::runtime_error(std::string(soname) + ": no symbol " + symbol);
    out = reinterpret_cast<Fn>(p);
}

struct SystemdApi {
    int (*journal_sendv)(const iovec*, int) = nullptr;
};

const SystemdApi& systemd() {
    static SystemdApi api;
    static std::once_flag once;
    std::call_once(once, [] {
        void* lib = ::dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
        if (lib == nullptr) return;  // stderr logging only
        api.journal_sendv =
            reinterpret_cast<int (*)(const iovec*, int)>(::dlsym(lib, "sd_journal_sendv"));
    });
    return api;
}

}  // namespace

const KmodApi& kmod() {
    static KmodApi api;
    static std::string error;
    static std::once_flag once;
    std::call_once(once, [] {
        constexpr const char* so = "libkmod.so.2";
        void* lib = ::dlopen(so, RTLD_LAZY | RTLD_LOCAL);
        if (lib == nullptr) {
            const char* e = ::dlerror();
            error = std::string("cannot load ") + so + ": " + (e ? e : "unknown error");
            return;
        }
        try {
            bind(lib, so, "kmod_new", api.new_ctx);
            bind(lib, so, "kmod_unref", api.unref);
            bind(lib, so, "kmod_get_dirname", api.get_dirname);
            bind(lib, so, "kmod_set_log_fn", api.set_log_fn);
            bind(lib, so, "kmod_set_log_priority", api.set_log_priority);
            bind(lib, so, "kmod_load_resources", api.load_resources);
            bind(lib, so, "kmod_dump_index", api.dump_index);
            bind(lib, so, "kmod_list_next", api.list_next);
            bind(lib, so, "kmod_module_new_from_lookup", api.module_new_from_lookup);
            bind(lib, so, "kmod_module_new_from_name", api.module_new_from_name);
            bind(lib, so, "kmod_module_unref", api.module_unref);
            bind(lib, so, "kmod_module_unref_list", api.module_unref_list);
            bind(lib, so, "kmod_module_get_module", api.module_get_module);
            bind(lib, so, "kmod_module_get_name", api.module_get_name);
            bind(lib, so, "kmod_module_get_path", api.module_get_path);
            bind(lib, so, "kmod_module_get_dependencies", api.module_get_dependencies);
            bind(lib, so, "kmod_module_probe_insert_module", api.module_probe_insert_module);
            bind(lib, so, "kmod_config_get_blacklists", api.config_get_blacklists);
            bind(lib, so, "kmod_config_iter_next", api.config_iter_next);
            bind(lib, so, "kmod_config_iter_get_key", api.config_iter_get_key);
            bind(lib, so, "kmod_config_iter_free_iter", api.config_iter_free_iter);
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    if (!error.empty()) throw std::runtime_error(error);
    return api;
}

int journal_sendv(const iovec* iov, int n) {
    const SystemdApi& api = systemd();
    return api.journal_sendv ? api.journal_sendv(iov, n) : -ENOSYS;
}

}  // namespace xa
