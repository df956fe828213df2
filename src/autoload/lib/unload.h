// Unloading a module the policy denies but that is loaded all the same (an initramfs made
// before the deny rule loaded it). Only the daemon does this, once at start and at reload,
// and only when nothing uses the module: delete_module(2) with O_NONBLOCK fails instead of
// waiting when the module is in use. Not libkmod: the kernel call is all there is to it
// (kmod_module_remove_module makes the same call).
#pragma once

#include <string>

namespace xa {

// 0 when NAME (kernel spelling) was unloaded, else the errno of delete_module(2):
// EWOULDBLOCK/EBUSY in use, ENOENT not loaded, EPERM not permitted.
int unload_unused_module(const std::string& name);

}  // namespace xa
