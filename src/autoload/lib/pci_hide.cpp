#include "pci_hide.h"

#include <algorithm>
#include <cerrno>

#include "sysroot.h"
#include "text_escape.h"

namespace xa {
namespace {

constexpr std::string_view kDevices = "sys/bus/pci/devices";
constexpr std::string_view kPcibackDir = "sys/bus/pci/drivers/pciback";
constexpr std::size_t kIdFileMax = 64;  // "0x020000\n"

std::string device_dir(const std::string& address) {
    std::string d(kDevices);
    d += '/';
    d += address;
    return d;
}

bool plausible_driver_name(std::string_view n) {
    if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
    return std::all_of(n.begin(), n.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// One id file of a device; nullopt (with a warning) when unreadable or not "0x...".
std::optional<std::uint32_t> read_id(const SysRoot& root, const std::string& dir, const char* file,
                                     std::uint32_t max, std::vector<std::string>& warnings) {
    const std::string rel = dir + "/" + file;
    const ReadResult r = root.read(rel, kIdFileMax);
    if (!r.ok()) {
        warnings.push_back(root.path(rel) + ": cannot read: " + r.why());
        return std::nullopt;
    }
    const auto v = parse_sysfs_hex(r.data, max);
    if (!v) warnings.push_back(root.path(rel) + ": not a hex id: " + quote_text(r.data));
    return v;
}

std::string rule_text(const std::string& selector, const std::string& origin) {
    return "pciback-hide " + selector + " (" + escape_text(origin, 4096) + ")";
}

std::string driver_text(const std::optional<std::string>& driver) {
    return driver ? escape_text(*driver) : std::string("no driver");
}

}  // namespace

bool PciHideSurvey::complete() const {
    if (!applies) return true;
    return std::all_of(devices.begin(), devices.end(),
                       [](const PciHideMatch& m) { return m.hidden(); });
}

std::optional<std::string> pci_bound_driver(const SysRoot& root, const std::string& dir) {
    const auto link = root.read_link(dir + "/driver");
    if (!link) return std::nullopt;
    std::string_view name(*link);
    while (!name.empty() && name.back() == '/') name.remove_suffix(1);
    if (const std::size_t slash = name.rfind('/'); slash != std::string_view::npos)
        name.remove_prefix(slash + 1);
    if (!plausible_driver_name(name)) return std::string("?");
    return std::string(name);
}

PciHideSurvey survey_pci_hide(const SysRoot& root, Role role,
                              const std::vector<PciHideRule>& rules) {
    PciHideSurvey s;
    if (rules.empty()) return s;
    for (const PciHideRule& r : rules) s.rules.push_back({r.selector.text(), r.origin, {}});
    if (role != Role::dom0) {
        s.reason = "role " + std::string(role_name(role)) + ": only the initial domain (dom0) " +
                   "hides PCI devices for xen-pciback; " + std::to_string(rules.size()) +
                   " pciback-hide selector(s) not applied";
        return s;
    }
    s.applies = true;
    const bool need_ids = std::any_of(rules.begin(), rules.end(), [](const PciHideRule& r) {
        return r.selector.kind != PciSelector::Kind::address;
    });
    int err = 0;
    const std::vector<std::string> names = root.list_dir(kDevices, &err);
    if (err != 0)
        s.warnings.push_back("cannot list the PCI devices in " + root.path(kDevices) + ": " +
                             errno_text(err));
    for (const std::string& name : names) {
        const auto address = parse_pci_address(name);
        // The kernel's spelling only: anything else in the directory is not a PCI device.
        if (!address || pci_address_text(*address) != name) continue;
        PciDeviceIds ids;
        ids.address = *address;
        const std::string dir = device_dir(name);
        if (need_ids) {
            if (const auto v = read_id(root, dir, "vendor", 0xffff, s.warnings))
                ids.vendor = static_cast<std::uint16_t>(*v);
            if (const auto v = read_id(root, dir, "device", 0xffff, s.warnings))
                ids.device = static_cast<std::uint16_t>(*v);
            ids.class_code = read_id(root, dir, "class", 0xffffff, s.warnings);
        }
        std::optional<std::size_t> first;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (!rules[i].selector.matches(ids)) continue;
            s.rules[i].addresses.push_back(name);
            if (!first) first = i;
        }
        if (first)
            s.devices.push_back({name, s.rules[*first].selector, rules[*first].origin,
                                 pci_bound_driver(root, dir)});
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (!s.rules[i].addresses.empty()) continue;
        const std::string what = rule_text(s.rules[i].selector, rules[i].origin);
        if (rules[i].selector.kind == PciSelector::Kind::address)
            s.warnings.push_back(what + ": no such PCI device");
        else
            s.notes.push_back(what + ": matches no device");
    }
    return s;
}

const char* pci_hide_status_name(PciHideStatus s) {
    switch (s) {
        case PciHideStatus::hidden:
            return "hidden";
        case PciHideStatus::already:
            return "already";
        case PciHideStatus::would_hide:
            return "would-hide";
        case PciHideStatus::failed:
            return "failed";
    }
    return "failed";
}

bool PciHideReport::ok() const {
    return std::none_of(results.begin(), results.end(),
                        [](const PciHideResult& r) { return r.status == PciHideStatus::failed; });
}

SysfsWrite sysroot_writer(const SysRoot& root) {
    return
        [&root](const std::string& rel, std::string_view value) { return root.write(rel, value); };
}

namespace {

// Writes VALUE to REL for R; on failure R is failed with the one-line message.
bool write_step(const SysRoot& root, const SysfsWrite& write, PciHideResult& r,
                const std::string& rel, std::string_view value) {
    const int err = write(rel, value);
    if (err == 0) return true;
    r.status = PciHideStatus::failed;
    r.pending = false;
    r.err = err;
    r.message = r.address + ": cannot write '" + std::string(value) + "' to " + root.path(rel) +
                ": " + errno_text(err) + " (" + rule_text(r.selector, r.origin) + ")";
    // xen-autoload.service sees /sys read-only (ProtectKernelTunables=): devices are hidden
    // by the initramfs's load, so a rule the initramfs does not hold yet needs a new image.
    if (err == EROFS)
        r.message +=
            "; rules are applied from the initramfs: run 'update-initramfs -u' (or "
            "'dracut -f') and reboot";
    return false;
}

}  // namespace

PciHideReport pci_hide_claim(const SysRoot& root, const PciHideSurvey& survey,
                             const SysfsWrite& write, bool dry_run) {
    PciHideReport report;
    if (!survey.reason.empty()) report.notes.push_back("pciback-hide: " + survey.reason);
    report.notes.insert(report.notes.end(), survey.notes.begin(), survey.notes.end());
    if (!survey.applies) return report;
    for (const PciHideMatch& m : survey.devices) {
        PciHideResult r;
        r.address = m.address;
        r.selector = m.selector;
        r.origin = m.origin;
        r.driver_before = pci_bound_driver(root, device_dir(m.address));
        const std::string rule = rule_text(m.selector, m.origin);
        if (r.driver_before && *r.driver_before == kPcibackDriver) {
            r.status = PciHideStatus::already;
            r.message = m.address + ": already bound to pciback (" + rule + ")";
        } else if (dry_run) {
            r.status = PciHideStatus::would_hide;
            r.message = m.address + ": would hide from " + driver_text(r.driver_before) +
                        " (driver_override, " + (r.driver_before ? "unbind, " : "") +
                        "new_slot, bind) (" + rule + ")";
        } else if (write_step(root, write, r, device_dir(m.address) + "/driver_override",
                              kPcibackDriver)) {
            r.status = PciHideStatus::hidden;
            r.pending = true;
        }
        report.results.push_back(std::move(r));
    }
    return report;
}

void pci_hide_bind(const SysRoot& root, const SysfsWrite& write, PciHideReport& report) {
    const bool registered = root.is_dir(kPcibackDir);
    const std::string pciback(kPcibackDir);
    for (PciHideResult& r : report.results) {
        if (!r.pending) continue;
        const std::string rule = rule_text(r.selector, r.origin);
        if (!registered) {
            r.pending = false;
            r.status = PciHideStatus::failed;
            r.err = ENODEV;
            r.message = r.address + ": not hidden: no pciback driver (" + root.path(kPcibackDir) +
                        " is missing: is xen-pciback loaded?); driver_override keeps other "
                        "drivers off it (" +
                        rule + ")";
            continue;
        }
        // Read again: with driver_override set, loading xen-pciback may have bound an
        // unbound device already.
        const auto now = pci_bound_driver(root, device_dir(r.address));
        if (now && *now == kPcibackDriver) {
            r.pending = false;
            r.message = r.address + ": hidden: bound to pciback (" + rule + ")";
            continue;
        }
        if (now && *now == "?") {
            r.pending = false;
            r.status = PciHideStatus::failed;
            r.message = r.address + ": not hidden: its driver link names no plausible driver (" +
                        rule + ")";
            continue;
        }
        if (now &&
            !write_step(root, write, r, "sys/bus/pci/drivers/" + *now + "/unbind", r.address))
            continue;
        if (!write_step(root, write, r, pciback + "/new_slot", r.address)) continue;
        if (!write_step(root, write, r, pciback + "/bind", r.address)) continue;
        r.pending = false;
        r.message = r.address + ": hidden: bound to pciback" +
                    (now ? ", was " + escape_text(*now) : std::string()) + " (" + rule + ")";
    }
}

void pci_hide_abandon(PciHideReport& report, const std::string& why) {
    for (PciHideResult& r : report.results) {
        if (!r.pending) continue;
        r.pending = false;
        r.status = PciHideStatus::failed;
        r.message = r.address + ": not bound to pciback: " + why + " (" +
                    rule_text(r.selector, r.origin) + ")";
    }
}

PciHideReport apply_pci_hide(const SysRoot& root, const PciHideSurvey& survey,
                             const SysfsWrite& write, bool dry_run) {
    PciHideReport report = pci_hide_claim(root, survey, write, dry_run);
    pci_hide_bind(root, write, report);
    return report;
}

}  // namespace xa
