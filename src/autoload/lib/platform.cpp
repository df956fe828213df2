#include "platform.h"

#include <sys/utsname.h>

#include <cstdio>

#include "cpuid.h"
#include "number.h"
#include "sysroot.h"
#include "text_escape.h"

namespace xa {
namespace {

constexpr const char* kType = "sys/hypervisor/type";
constexpr const char* kFeatures = "sys/hypervisor/properties/features";
constexpr const char* kGuestType = "sys/hypervisor/guest_type";
constexpr const char* kXenbusBackend = "dev/xen/xenbus_backend";
constexpr const char* kCapabilities = "proc/xen/capabilities";
constexpr const char* kProcXen = "proc/xen";
constexpr const char* kDtHypervisor = "proc/device-tree/hypervisor/compatible";
constexpr const char* kOsRelease = "proc/sys/kernel/osrelease";

class Detector {
  public:
    Detector(const SysRoot& root, const CpuidProbe* cpuid) : root_(root), cpuid_(cpuid) {}

    Platform run() {
        p_.kernel = kernel_release(root_, &p_.evidence);
        detect_hypervisor();
        if (p_.hypervisor == Hypervisor::xen) {
            detect_role();
            detect_guest_type();
            detect_version();
        }
        return std::move(p_);
    }

  private:
    void note(std::string source, std::string fact) {
        p_.evidence.push_back({std::move(source), std::move(fact)});
    }

    // Reads a file; a read problem becomes a note and std::nullopt.
    std::optional<std::string> read(const char* rel, bool note_missing = true) {
        const ReadResult r = root_.read(rel);
        if (r.ok()) return r.data;
        if (r.status == ReadResult::Status::missing) {
            if (note_missing) note(rel, "absent");
        } else {
            note(rel, "unreadable, ignored: " + errno_text(r.error));
        }
        return std::nullopt;
    }

    static std::string quoted(std::string_view s) { return quote_text(s, 40); }

    void detect_hypervisor() {
        if (const auto t = read(kType)) {
            const std::string_view v = trim(*t);
            if (v == "xen") {
                note(kType, "xen");
                p_.hypervisor = Hypervisor::xen;
                return;
            }
            note(kType, "not xen, ignored: " + quoted(v));
        }
        if (root_.is_dir(kProcXen)) {
            // Created by the kernel only when it runs on Xen (the xenfs mount point).
            note(kProcXen, "exists (xenfs mount point)");
            p_.hypervisor = Hypervisor::xen;
            return;
        }
        note(kProcXen, "absent");
        // Arm: the device tree's hypervisor node (x86 has no device tree: not noted there).
        if (const auto c = read(kDtHypervisor, false)) {
            if (const auto dt = parse_dt_hypervisor(*c)) {
                note(kDtHypervisor, "xen,xen");
                p_.hypervisor = Hypervisor::xen;
                return;
            }
            note(kDtHypervisor, "no xen,xen, ignored: " + quoted(*c));
        }
        if (cpuid_ != nullptr) {
            if (const auto x = cpuid_->scan_plain()) {
                plain_cpuid_ = x;
                note(leaf(x->base_leaf), "XenVMMXenVMM signature");
                p_.hypervisor = Hypervisor::xen;
                return;
            }
            note("cpuid:0x40000000-0x4000ff00", "no Xen signature");
        }
        // /sys/bus/xen and /sys/bus/xen-backend are registered on native boots too: they
        // are deliberately not evidence.
    }

    void detect_role() {
        if (const auto f = read(kFeatures)) {
            if (const auto bits = parse_hex_bitmap(*f)) {
                char hex[32];
                std::snprintf(hex, sizeof hex, "0x%08llx", static_cast<unsigned long long>(*bits));
                if ((*bits >> kXenFeatDom0Bit) & 1U) {
                    note(kFeatures, std::string("XENFEAT_dom0 set (") + hex + ")");
                    p_.role = Role::dom0;
                    return;
                }
                note(kFeatures, std::string("XENFEAT_dom0 clear (") + hex + ")");
            } else {
                note(kFeatures, "not a hex bitmap, ignored: " + quoted(*f));
            }
        }
        // Registered only in the initial domain (xenbus_backend_init); exists before xenfs.
        if (root_.exists(kXenbusBackend)) {
            note(kXenbusBackend, "exists (initial domain only)");
            p_.role = Role::dom0;
            return;
        }
        note(kXenbusBackend, "absent");
        if (const auto caps = read(kCapabilities)) {
            if (capabilities_have_control_d(*caps)) {
                note(kCapabilities, "control_d");
                p_.role = Role::dom0;
                return;
            }
            note(kCapabilities, "no control_d: " + quoted(trim(*caps)));
        }
        p_.role = Role::domU;
    }

    void detect_guest_type() {
        if (const auto g = read(kGuestType)) {
            if (const auto t = parse_guest_type(*g)) {
                p_.guest_type = *t;
                note(kGuestType, guest_type_name(*t));
                return;
            }
            note(kGuestType, "unknown value, ignored: " + quoted(*g));
        }
        if (cpuid_ == nullptr) {
            note("cpuid", "not probed (under --root, or not x86)");
            return;
        }
        // HVM and PVH guests see Xen's leaves with a plain CPUID.
        if (!plain_cpuid_) plain_cpuid_ = cpuid_->scan_plain();
        if (plain_cpuid_) {
            note(leaf(plain_cpuid_->base_leaf), "XenVMMXenVMM with plain CPUID: HVM container");
            // The Xen platform PCI device (5853:0001) exists in HVM guests, not in PVH ones.
            if (has_xen_platform_pci()) {
                p_.guest_type = GuestType::hvm;
                note("sys/bus/pci/devices", "Xen platform PCI device 5853:0001: HVM");
            } else {
                note("sys/bus/pci/devices", "no Xen platform PCI device: HVM or PVH, unknown");
            }
            return;
        }
        // We are on Xen (sysfs or /proc/xen said so) but plain CPUID shows no Xen: a PV
        // domain, where the forced-emulation prefix is safe. Confirm through it.
        if (const auto x = cpuid_->scan_forced_emulation()) {
            p_.guest_type = GuestType::pv;
            note(leaf(x->base_leaf), "XenVMMXenVMM only through forced emulation: PV");
            if (!p_.xen_version) cpuid_version_ = *x;
        } else {
            note("cpuid", "no Xen signature, also not through forced emulation");
        }
    }

    bool has_xen_platform_pci() const {
        for (const std::string& dev : root_.list_dir("sys/bus/pci/devices")) {
            const std::string base = "sys/bus/pci/devices/" + dev + "/";
            const ReadResult v = root_.read(base + "vendor");
            const ReadResult d = root_.read(base + "device");
            if (v.ok() && d.ok() && trim(v.data) == "0x5853" && trim(d.data) == "0x0001")
                return true;
        }
        return false;
    }

    void detect_version() {
        const auto major = read("sys/hypervisor/version/major");
        const auto minor = read("sys/hypervisor/version/minor");
        const auto extra = read("sys/hypervisor/version/extra", false);
        const auto ma = major ? parse_unsigned(trim(*major), 0, kXenVersionMax) : std::nullopt;
        const auto mi = minor ? parse_unsigned(trim(*minor), 0, kXenVersionMax) : std::nullopt;
        if (major && !ma)
            note("sys/hypervisor/version/major", "not a number, ignored: " + quoted(*major));
        if (minor && !mi)
            note("sys/hypervisor/version/minor", "not a number, ignored: " + quoted(*minor));
        if (ma && mi) {
            std::string v = std::to_string(*ma) + "." + std::to_string(*mi);
            if (extra) {
                if (const auto e = parse_version_extra(*extra)) {
                    v += *e;
                } else {
                    note("sys/hypervisor/version/extra", "garbage, ignored: " + quoted(*extra));
                }
            }
            note("sys/hypervisor/version", v);
            p_.xen_version = v;
            return;
        }
        const auto& x = plain_cpuid_ ? plain_cpuid_ : cpuid_version_;
        if (x) {
            p_.xen_version = std::to_string(x->major) + "." + std::to_string(x->minor);
            note(leaf(x->base_leaf + 1), "version " + *p_.xen_version);
            return;
        }
        // Arm: "xen,xen-X.Y" in the device tree.
        if (const auto c = read(kDtHypervisor, false)) {
            if (const auto dt = parse_dt_hypervisor(*c); dt && dt->version) {
                p_.xen_version = *dt->version;
                note(kDtHypervisor, "version " + *dt->version);
            }
        }
    }

    static std::string leaf(std::uint32_t l) {
        char b[32];
        std::snprintf(b, sizeof b, "cpuid:0x%08x", l);
        return b;
    }

    const SysRoot& root_;
    const CpuidProbe* cpuid_;
    Platform p_;
    std::optional<XenCpuid> plain_cpuid_;
    std::optional<XenCpuid> cpuid_version_;
};

}  // namespace

const char* role_name(Role r) {
    switch (r) {
        case Role::dom0:
            return "dom0";
        case Role::domU:
            return "domU";
        case Role::driver_domain:
            return "driver-domain";
        case Role::none:
            break;
    }
    return "none";
}

std::optional<Role> parse_role(std::string_view s) {
    if (s == "dom0") return Role::dom0;
    if (s == "domU") return Role::domU;
    if (s == "driver-domain") return Role::driver_domain;
    if (s == "none") return Role::none;
    return std::nullopt;
}

std::optional<std::string> kernel_release(const SysRoot& root, std::vector<Evidence>* evidence) {
    const ReadResult r = root.read(kOsRelease);
    if (r.ok()) {
        if (auto k = parse_kernel_release(r.data)) {
            if (evidence) evidence->push_back({kOsRelease, *k});
            return k;
        }
        if (evidence) evidence->push_back({kOsRelease, "not a kernel release, ignored"});
    } else if (evidence) {
        evidence->push_back({kOsRelease, r.status == ReadResult::Status::missing
                                             ? std::string("absent")
                                             : "unreadable: " + errno_text(r.error)});
    }
    if (root.is_live()) {
        utsname u{};
        if (::uname(&u) == 0) {
            if (auto k = parse_kernel_release(u.release)) {
                if (evidence) evidence->push_back({"uname", *k});
                return k;
            }
        }
    }
    return std::nullopt;
}

Platform detect_platform(const SysRoot& root, const CpuidProbe* cpuid) {
    return Detector(root, cpuid).run();
}

}  // namespace xa
