// The sysfs/procfs parsers and detection on arbitrary file contents. Property checked:
// detection never says "dom0" unless one of the three dom0 signals really holds, and says Xen
// whenever the device tree (Arm) has "xen,xen".
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "number.h"
#include "platform.h"
#include "sysfs_parse.h"
#include "sysroot.h"

namespace {

const char* const kFiles[] = {
    "sys/hypervisor/type",
    "sys/hypervisor/properties/features",
    "sys/hypervisor/guest_type",
    "sys/hypervisor/version/major",
    "sys/hypervisor/version/minor",
    "sys/hypervisor/version/extra",
    "proc/xen/capabilities",
    "proc/sys/kernel/osrelease",
    "proc/device-tree/hypervisor/compatible",  // last: its strings end in NULs
};

std::string make_root() {
    std::string dir = "/dev/shm/xa-fuzz-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) std::abort();
    for (const char* sub :
         {"/sys", "/sys/hypervisor", "/sys/hypervisor/properties", "/sys/hypervisor/version",
          "/proc", "/proc/xen", "/proc/sys", "/proc/sys/kernel", "/proc/device-tree",
          "/proc/device-tree/hypervisor", "/dev", "/dev/xen"})
        ::mkdir((dir + sub).c_str(), 0755);
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string root = make_root();
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // The parsers directly, on the whole input.
    (void)xa::parse_hex_bitmap(in);
    (void)xa::parse_guest_type(in);
    (void)xa::parse_unsigned(xa::trim(in), 0, xa::kXenVersionMax);
    (void)xa::parse_version_extra(in);
    (void)xa::parse_kernel_release(in);
    (void)xa::capabilities_have_control_d(in);
    if (const auto dt = xa::parse_dt_hypervisor(in);
        dt && dt->version && dt->version->find_first_not_of("0123456789.") != std::string::npos)
        std::abort();  // a version is digits and dots only
    for (const std::string& m : xa::parse_proc_modules(in))
        if (!xa::is_valid_module_name(m)) std::abort();

    // Detection on a tree whose files are the input's NUL-separated parts; the first byte
    // decides whether dev/xen/xenbus_backend exists.
    std::vector<std::string_view> parts;
    std::string_view rest = in.empty() ? in : in.substr(1);
    bool more = true;
    while (more && parts.size() + 1 < std::size(kFiles)) {
        const std::size_t nul = rest.find('\0');
        parts.push_back(rest.substr(0, nul));
        more = nul != std::string_view::npos;
        if (more) rest = rest.substr(nul + 1);
    }
    // The last file, the device tree's, takes the rest whole (NULs included).
    if (more) parts.push_back(rest);
    for (std::size_t i = 0; i < std::size(kFiles); ++i) {
        const std::string path = root + "/" + kFiles[i];
        if (i < parts.size()) {
            std::ofstream(path, std::ios::binary | std::ios::trunc) << parts[i];
        } else {
            ::unlink(path.c_str());
        }
    }
    const bool backend = !in.empty() && (in[0] & 1);
    const std::string be = root + "/dev/xen/xenbus_backend";
    if (backend)
        std::ofstream(be).flush();
    else
        ::unlink(be.c_str());

    const xa::Platform p = xa::detect_platform(xa::SysRoot(root), nullptr);
    if (p.role == xa::Role::dom0) {
        const auto bits = parts.size() > 1 ? xa::parse_hex_bitmap(parts[1]) : std::nullopt;
        const bool feat = bits && ((*bits >> xa::kXenFeatDom0Bit) & 1U);
        const bool caps = parts.size() > 6 && xa::capabilities_have_control_d(parts[6]);
        if (!feat && !backend && !caps) std::abort();  // a wrong "dom0"
    }
    if (p.hypervisor == xa::Hypervisor::none && p.role != xa::Role::none) std::abort();
    // The device tree's "xen,xen" is enough to say Xen (Arm).
    constexpr std::size_t kDt = std::size(kFiles) - 1;
    if (parts.size() > kDt && xa::parse_dt_hypervisor(parts[kDt]) &&
        p.hypervisor != xa::Hypervisor::xen)
        std::abort();
    return 0;
}
