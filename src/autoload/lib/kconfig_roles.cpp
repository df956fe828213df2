#include "kconfig_roles.h"

#include <algorithm>
#include <map>

namespace xa {

namespace {

using Req = KconfigRequirement;
constexpr std::string_view kX86 = "x86";
constexpr std::string_view kArm64 = "arm64";

bool applies_on(const std::vector<std::string_view>& only_on, std::string_view arch) {
    return only_on.empty() || std::find(only_on.begin(), only_on.end(), arch) != only_on.end();
}

std::vector<KconfigRoleSpec> make_roles() {
    // Shared entries, built here (once, on first use) rather than as globals: no work at
    // program start, which every `detect` and udev event pays for. The "why" texts are what an
    // admin reads next to a missing symbol.
    const Req kXen{{"XEN"}, "Xen guest support: every Xen role runs the kernel as a Xen guest"};
    const Req kSysHypervisor{{"XEN_SYS_HYPERVISOR"},
                             "/sys/hypervisor: xen-autoload's best evidence of the role; without "
                             "it detection falls back to CPUID and /proc/xen"};
    const Req kHvc{{"HVC_XEN"}, "hvc0, the Xen console"};
    const Req kBlkfront{{"XEN_BLKDEV_FRONTEND"},
                        "xen-blkfront: disks (xvd*) of a guest without emulated hardware"};
    const Req kNetfront{{"XEN_NETDEV_FRONTEND"}, "xen-netfront: network of a guest"};
    const Req kBalloon{{"XEN_BALLOON"}, "memory ballooning (xl mem-set)"};
    const Req kEvtchn{{"XEN_DEV_EVTCHN"}, "/dev/xen/evtchn: xenstored and every toolstack daemon"};
    const Req kGntdev{{"XEN_GNTDEV"},
                      "/dev/xen/gntdev: backends in user space (qemu, xenconsoled)"};
    const Req kPrivcmd{{"XEN_PRIVCMD"}, "/dev/xen/privcmd: the toolstack's hypercalls"};
    const Req kBackend{{"XEN_BACKEND"}, "the gate of every backend driver"};
    std::vector<KconfigRoleSpec> roles;
    roles.push_back(
        {"native",
         "bare metal, no hypervisor",
         {{{"64BIT"}, "a 64-bit kernel (x86-64 or arm64)"},
          {{"SYSFS"}, "/sys: platform detection"},
          {{"PROC_FS"}, "/proc: platform detection"},
          {{"DEVTMPFS"}, "/dev populated by the kernel (udev needs it)"}},
         {{{"MODULES"}, "loadable modules (without them every driver must be built in)"},
          {{"XEN"}, "the same image also boots under Xen"}},
         {},
         {}});
    roles.push_back(
        {"dom0",
         "Xen dom0 (the initial domain: PV on x86)",
         {kXen,
          {{"XEN_PV"}, "Xen 4.17 boots dom0 as a PV guest unless dom0=pvh (experimental)", kX86},
          {{"XEN_DOM0"}, "support for running as the initial domain"},
          kBackend,
          kEvtchn,
          kGntdev,
          kPrivcmd,
          {{"XENFS"}, "xenfs on /proc/xen: Debian's xen init script checks control_d there"},
          {{"XEN_BLKDEV_BACKEND"}, "xen-blkback: guest disks"},
          {{"XEN_NETDEV_BACKEND"}, "xen-netback: guest network interfaces"}},
         {kSysHypervisor,
          {{"XEN_COMPAT_XENFS"}, "/proc/xen as xenfs' mount point"},
          {{"XEN_GRANT_DEV_ALLOC"}, "/dev/xen/gntalloc: shared memory between domains (vchan)"},
          {{"XEN_PCIDEV_BACKEND"}, "xen-pciback: PCI passthrough"},
          {{"XEN_SCSI_BACKEND"}, "xen-scsiback: PV SCSI"},
          {{"XEN_ACPI_PROCESSOR"}, "xen-acpi-processor: CPU power states handed to Xen", kX86},
          {{"XEN_MCE_LOG"}, "machine-check events of the hypervisor", kX86},
          kHvc,
          kBalloon,
          {{"BRIDGE"}, "bridges for the vif-bridge network script"},
          {{"TUN"}, "tap devices for qemu device models (HVM guests)"}},
         {},
         {}});
    roles.push_back({"domU",
                     "Xen guest (domU): PV, PVH or HVM on x86, the Arm guest on arm64",
                     {},
                     {},
                     {"domU-pv", "domU-pvh", "domU-hvm", "domU-arm"},
                     {}});
    const std::vector<Req> guest_optional = {
        kNetfront,
        kSysHypervisor,
        kBalloon,
        {{"XEN_SAVE_RESTORE"}, "save, restore and live migration"},
        {{"XEN_PCIDEV_FRONTEND"}, "PCI devices passed through (PV guests)", kX86},
        {{"XEN_SCSI_FRONTEND"}, "PV SCSI disks"},
        {{"XEN_FBDEV_FRONTEND"}, "PV framebuffer (vfb)"},
        {{"INPUT_XEN_KBDDEV_FRONTEND"}, "PV keyboard and mouse (vkbd)"},
        kEvtchn,
        kGntdev};
    roles.push_back({"domU-pv",
                     "Xen PV guest",
                     {kXen,
                      {{"XEN_PV"}, "Xen PV guest support"},
                      {{"HVC_XEN"}, "hvc0: the only console a PV guest has"},
                      {{"XEN_BLKDEV_FRONTEND"}, "a PV guest has no emulated disk: root on xvda"}},
                     guest_optional,
                     {},
                     {kX86}});
    roles.push_back({"domU-pvh",
                     "Xen PVH guest",
                     {kXen,
                      {{"XEN_PVH"}, "Xen PVH guest support (entry point, no emulated devices)"},
                      {{"HVC_XEN"}, "hvc0: the only console a PVH guest has"},
                      {{"XEN_BLKDEV_FRONTEND"}, "a PVH guest has no emulated disk: root on xvda"}},
                     guest_optional,
                     {},
                     {kX86}});
    std::vector<Req> hvm_optional = guest_optional;
    hvm_optional.insert(
        hvm_optional.begin(),
        {{{"XEN_BLKDEV_FRONTEND"}, "PV disks (emulated IDE/AHCI otherwise)"}, kHvc});
    roles.push_back(
        {"domU-hvm",
         "Xen HVM guest with PV drivers (PVHVM)",
         {kXen,
          {{"XEN_PVHVM"}, "PV interfaces in an HVM guest"},
          {{"XEN_PVHVM_GUEST"},
           "runs as PVHVM (PV clock, event channels, PV drivers); without it the kernel is a "
           "plain emulated PC"}},
         hvm_optional,
         {},
         {kX86}});
    roles.push_back(
        {"domU-arm",
         "Xen guest on Arm (the one kind of domain there)",
         {kXen,
          {{"HVC_XEN"}, "hvc0: an Arm guest's console"},
          {{"XEN_BLKDEV_FRONTEND"}, "an Arm guest's disks are Xen's PV disks: root on xvda"}},
         guest_optional,
         {},
         {kArm64}});
    roles.push_back(
        {"driver-domain",
         "Xen driver domain (a domU serving backends to other guests)",
         {kBackend,
          kEvtchn,
          kGntdev,
          kPrivcmd,
          {{"XEN_NETDEV_BACKEND", "XEN_BLKDEV_BACKEND", "XEN_SCSI_BACKEND"},
           "at least one backend driver to serve"}},
         {{{"XEN_NETDEV_BACKEND"}, "xen-netback: network backend"},
          {{"XEN_BLKDEV_BACKEND"}, "xen-blkback: disk backend"},
          {{"XEN_SCSI_BACKEND"}, "xen-scsiback: PV SCSI backend"},
          {{"XEN_PCIDEV_FRONTEND"}, "the device passed through to the driver domain (PV)", kX86},
          {{"XENFS"}, "xenfs on /proc/xen"},
          {{"BRIDGE"}, "bridges for the vif-bridge network script"}},
         {"domU"},
         {}});
    return roles;
}

KconfigEntryResult evaluate_entry(const KernelConfig& config, const Req& req) {
    KconfigEntryResult result;
    result.why = std::string(req.why);
    for (std::string_view symbol : req.any_of) {
        result.symbols.emplace_back(symbol);
        KconfigState state = config.state(symbol);
        if (result.satisfied_by.empty() &&
            (state == KconfigState::builtin || state == KconfigState::module)) {
            result.satisfied_by = std::string(symbol);
            result.state = state;
        }
    }
    return result;
}

std::string entry_name(const KconfigEntryResult& e) {
    std::string out;
    for (const auto& s : e.symbols) out += (out.empty() ? "CONFIG_" : " or CONFIG_") + s;
    return out;
}

}  // namespace

const std::vector<KconfigRoleSpec>& kconfig_roles() {
    static const std::vector<KconfigRoleSpec> roles = make_roles();
    return roles;
}

const KconfigRoleSpec* find_kconfig_role(std::string_view name) {
    for (const auto& r : kconfig_roles())
        if (r.name == name) return &r;
    return nullptr;
}

std::string_view kconfig_arch(const KernelConfig& config) {
    return config.state("ARM64") == KconfigState::builtin ? kArm64 : kX86;
}

const KconfigRoleResult* KconfigVerdict::role(std::string_view name) const {
    for (const auto& r : roles)
        if (r.name == name) return &r;
    return nullptr;
}

KconfigVerdict check_kernel_config(const KernelConfig& config, const std::string& origin) {
    KconfigVerdict verdict;
    verdict.origin = origin;
    verdict.kernel_version = config.kernel_version();
    const std::string_view arch = kconfig_arch(config);
    verdict.arch = std::string(arch);

    // Symbol checks first; "needs" are resolved afterwards, in dependency order.
    std::map<std::string, KconfigRoleResult, std::less<>> by_name;
    for (const auto& spec : kconfig_roles()) {
        KconfigRoleResult r;
        r.name = std::string(spec.name);
        r.title = std::string(spec.title);
        if (!applies_on(spec.only_on, arch)) {
            std::string where;
            for (auto a : spec.only_on) where += (where.empty() ? "" : ", ") + std::string(a);
            r.applies = false;
            r.problems.push_back("not a role on " + std::string(arch) + " (" + where + " only)");
            by_name.emplace(r.name, std::move(r));
            continue;
        }
        for (const auto& req : spec.required) {
            if (!req.only_on.empty() && req.only_on != arch) continue;
            r.required.push_back(evaluate_entry(config, req));
            if (r.required.back().satisfied_by.empty())
                r.problems.push_back(entry_name(r.required.back()) +
                                     " missing: " + r.required.back().why);
        }
        for (const auto& req : spec.optional)
            if (req.only_on.empty() || req.only_on == arch)
                r.optional.push_back(evaluate_entry(config, req));
        for (auto n : spec.needs_any_role) {
            const KconfigRoleSpec* needed = find_kconfig_role(n);
            if (needed != nullptr && applies_on(needed->only_on, arch))
                r.needs_any_role.emplace_back(n);
        }
        r.works = r.problems.empty();
        by_name.emplace(r.name, std::move(r));
    }
    // Roles needing other roles: at most two levels (driver-domain -> domU -> guest types);
    // iterate until nothing changes so the table's order does not matter.
    std::map<std::string, bool, std::less<>> resolved;
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& [name, r] : by_name) {
            if (resolved.count(name)) continue;
            bool ready = true;
            for (const auto& n : r.needs_any_role)
                if (!by_name.count(n) || (!resolved.count(n) && !by_name[n].needs_any_role.empty()))
                    ready = false;
            if (!ready) continue;
            if (!r.needs_any_role.empty()) {
                for (const auto& n : r.needs_any_role)
                    if (by_name[n].works) r.working_roles.push_back(n);
                if (r.working_roles.empty()) {
                    std::string list;
                    for (const auto& n : r.needs_any_role) list += (list.empty() ? "" : ", ") + n;
                    r.problems.push_back((r.needs_any_role.size() > 1 ? "none of " + list + " works"
                                                                      : list + " does not work"));
                    r.works = false;
                }
            }
            resolved[name] = true;
            changed = true;
        }
    }
    for (const auto& spec : kconfig_roles())
        verdict.roles.push_back(std::move(by_name[std::string(spec.name)]));
    return verdict;
}

}  // namespace xa
