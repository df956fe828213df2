// The test suite's module insertion shim (kmod's testsuite trick): LD_PRELOADed into
// xen-autoload, it answers the kernel's module insertion calls itself, so a real `load`
// (without --dry-run) runs against a fixture root and never reaches the kernel.
//   finit_module(2) and init_module(2), and syscall(2) with __NR_finit_module or
//   __NR_init_module (libkmod 30 calls finit_module through syscall(), glibc has no wrapper).
// XA_SHIM_ERRNO="xen_netback=EEXIST,xen_pciback=ENODEV": the result per module (kernel
// spelling, from the file name or the module's .modinfo name=); every other module succeeds.
// XA_SHIM_LOG=FILE: one line "NAME" per insertion, appended.
// The symbol xa_testsuite_insertion_shim tells xen-autoload that insertion is simulated
// (lib/loader.h module_insertion_simulated): only then a real load may use --root.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

extern "C" {
__attribute__((visibility("default"))) extern const char xa_testsuite_insertion_shim[];
const char xa_testsuite_insertion_shim[] = "insertion simulated by tests/shim/insert_shim.cpp";
}

namespace {

std::string normalized(std::string_view name) {
    std::string n(name);
    for (char& c : n)
        if (c == '-') c = '_';
    return n;
}

// /lib/modules/K/kernel/drivers/net/xen-netback/xen-netback.ko[.xz] -> xen_netback
std::string name_of_fd(int fd) {
    char link[64];
    char path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    if (n <= 0) return "?";
    std::string_view p(path, static_cast<std::size_t>(n));
    p.remove_prefix(p.rfind('/') + 1);
    p = p.substr(0, p.find(".ko"));
    return normalized(p);
}

// The "name=" entry of the module's .modinfo section.
std::string name_of_image(const void* image, unsigned long size) {
    const std::string_view data(static_cast<const char*>(image), size);
    const std::size_t at = data.find(std::string_view("\0name=", 6));
    if (at == std::string_view::npos) return "?";
    const std::string_view rest = data.substr(at + 6);
    return normalized(rest.substr(0, rest.find('\0')));
}

int errno_named(std::string_view s) {
    if (s == "EEXIST") return EEXIST;
    if (s == "ENODEV") return ENODEV;
    if (s == "EPERM") return EPERM;
    if (s == "ENOENT") return ENOENT;
    if (s == "EINVAL") return EINVAL;
    return EIO;
}

// The whole "insertion": log it, answer as XA_SHIM_ERRNO says.
long insert(const std::string& name) {
    if (const char* log = std::getenv("XA_SHIM_LOG")) {
        const int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            const std::string line = name + "\n";
            (void)!::write(fd, line.data(), line.size());
            ::close(fd);
        }
    }
    const char* spec = std::getenv("XA_SHIM_ERRNO");
    std::string_view rest = spec != nullptr ? spec : "";
    while (!rest.empty()) {
        const std::string_view item = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), item.size() + 1));
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos || normalized(item.substr(0, eq)) != name) continue;
        errno = errno_named(item.substr(eq + 1));
        return -1;
    }
    return 0;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int finit_module(int fd, const char*, int) {
    return static_cast<int>(insert(name_of_fd(fd)));
}

__attribute__((visibility("default"))) int init_module(void* image, unsigned long size,
                                                       const char*) {
    return static_cast<int>(insert(name_of_image(image, size)));
}

__attribute__((visibility("default"))) long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a) x = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_finit_module) return insert(name_of_fd(static_cast<int>(a[0])));
    if (number == SYS_init_module)
        return insert(
            name_of_image(reinterpret_cast<void*>(a[0]), static_cast<unsigned long>(a[1])));
    using Real = long (*)(long, ...);
    static const auto real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "syscall"));
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

}  // extern "C"
