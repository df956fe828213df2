// libkmod and libsystemd, opened with dlopen() when first needed instead of at program
// start. Why: the dynamic loader's work for libkmod (+ libcrypto, liblzma, libzstd) and
// libsystemd (+ libgcrypt, liblz4, libcap) costs several times a whole run of `detect`,
// and `detect` / `udev` run on every boot and udev event (docs/measurements.md). The
// libraries are still the only ones used: libkmod.so.2 and libsystemd.so.0 by soname.
#pragma once

#include <libkmod.h>
#include <sys/uio.h>

#include <string>

namespace xa {

struct KmodApi {
    decltype(&::kmod_new) new_ctx;
    decltype(&::kmod_unref) unref;
    decltype(&::kmod_get_dirname) get_dirname;
    decltype(&::kmod_set_log_fn) set_log_fn;
    decltype(&::kmod_set_log_priority) set_log_priority;
    decltype(&::kmod_load_resources) load_resources;
    decltype(&::kmod_dump_index) dump_index;
    decltype(&::kmod_list_next) list_next;
    decltype(&::kmod_module_new_from_lookup) module_new_from_lookup;
    decltype(&::kmod_module_new_from_name) module_new_from_name;
    decltype(&::kmod_module_unref) module_unref;
    decltype(&::kmod_module_unref_list) module_unref_list;
    decltype(&::kmod_module_get_module) module_get_module;
    decltype(&::kmod_module_get_name) module_get_name;
    decltype(&::kmod_module_get_path) module_get_path;
    decltype(&::kmod_module_get_dependencies) module_get_dependencies;
    decltype(&::kmod_module_probe_insert_module) module_probe_insert_module;
    decltype(&::kmod_config_get_blacklists) config_get_blacklists;
    decltype(&::kmod_config_iter_next) config_iter_next;
    decltype(&::kmod_config_iter_get_key) config_iter_get_key;
    decltype(&::kmod_config_iter_free_iter) config_iter_free_iter;
};

// Loads libkmod.so.2 once (thread-safe). Throws std::runtime_error naming the library and
// dlerror() when it or a symbol is missing.
const KmodApi& kmod();

// sd_journal_sendv() from libsystemd.so.0; returns -ENOSYS when libsystemd is not there
// (an initramfs without it): callers fall back to stderr.
int journal_sendv(const iovec* iov, int n);

}  // namespace xa
