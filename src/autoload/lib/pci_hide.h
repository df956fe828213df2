// pciback-hide: the policy's way to give PCI devices to xen-pciback in the initial domain,
// instead of the xen-pciback.hide=(BDF) kernel parameter (issue #11: Qubes' sys-net hides
// every network controller; the BDF syntax of the kernel parameter trips people up).
//
// Contract:
// - Only the dom0 role hides anything; in any other role (native, domU, driver domain) the
//   rules are a no-op with a reason. The plan then requires xen-pciback (plan.cpp).
// - Devices are SYSROOT/sys/bus/pci/devices/*; a rule matches on the directory's name (the
//   address) or its vendor, device and class files (read through SysRoot: confined,
//   O_NONBLOCK, regular files only, size-capped). The first matching rule names a device.
// - Hiding a device, in this order: "pciback" to its driver_override (the driver's name in
//   sysfs is pciback, and the PCI core then binds it to no other driver); after the modules
//   are loaded, its address to its current driver's unbind, to pciback's new_slot
//   (xen-pciback seizes only the slots it was told about) and to pciback's bind. The first
//   step runs before any module is inserted (engine.cpp) so that no driver loaded by this
//   run, or by udev's coldplug after it, can take the device in between.
// - Idempotent: a device bound to pciback is reported and left alone.
// - Every write goes through a SysfsWrite (SysRoot::write, or a recorder in tests); a failed
//   write is one line naming the device, the file and the errno. A selector that matches no
//   device is a note (hardware changes), an address naming no device a warning.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform.h"
#include "policy.h"

namespace xa {

class SysRoot;

// The name xen-pciback registers its PCI driver under (sys/bus/pci/drivers/pciback).
inline constexpr std::string_view kPcibackDriver = "pciback";

// A device a rule matched, as sysfs shows it when surveyed.
struct PciHideMatch {
    std::string address;                // "0000:00:04.0"
    std::string selector;               // the matching rule's canonical text
    std::string origin;                 // its FILE:LINE
    std::optional<std::string> driver;  // the driver bound now; nullopt: none
    bool hidden() const { return driver && *driver == kPcibackDriver; }
};

struct PciHideRuleMatches {
    std::string selector;
    std::string origin;
    std::vector<std::string> addresses;  // devices it matched (first-match or not)
};

// The rules against the devices present: what plan and status show, what load acts on.
struct PciHideSurvey {
    bool applies = false;  // dom0 and at least one rule
    std::string reason;    // rules present but not applied: why (role)
    std::vector<PciHideRuleMatches> rules;
    std::vector<PciHideMatch> devices;  // in address order
    std::vector<std::string> warnings;  // an address naming no device, an unreadable id file
    std::vector<std::string> notes;     // a selector that matches no device
    // Every matched device is bound to pciback (true when nothing applies).
    bool complete() const;
};

PciHideSurvey survey_pci_hide(const SysRoot& root, Role role,
                              const std::vector<PciHideRule>& rules);

// The driver the device DIR (e.g. "sys/bus/pci/devices/0000:00:04.0") is bound to: the
// last component of its driver link; nullopt when unbound. A link whose name is no
// plausible driver name ("..", control characters) reads as "?".
std::optional<std::string> pci_bound_driver(const SysRoot& root, const std::string& dir);

enum class PciHideStatus { hidden, already, would_hide, failed };
const char* pci_hide_status_name(PciHideStatus s);  // "hidden", "already", "would-hide", "failed"

struct PciHideResult {
    std::string address;
    std::string selector;
    std::string origin;
    std::optional<std::string> driver_before;
    PciHideStatus status = PciHideStatus::failed;
    int err = 0;           // errno of the failed write, else 0
    std::string message;   // one line, starting with the address
    bool pending = false;  // claimed (driver_override written), not yet bound
};

struct PciHideReport {
    std::vector<PciHideResult> results;
    // Not failures, logged as information: why nothing applies (role), selectors that
    // matched no device.
    std::vector<std::string> notes;
    bool ok() const;  // nothing failed
};

// Writes VALUE to the file REL (below the root); returns 0 or the errno.
using SysfsWrite = std::function<int(const std::string& rel, std::string_view value)>;
SysfsWrite sysroot_writer(const SysRoot& root);

// Step 1 (before modules load): driver_override of every matched device not yet bound to
// pciback. DRY_RUN: writes nothing, each device "would-hide".
PciHideReport pci_hide_claim(const SysRoot& root, const PciHideSurvey& survey,
                             const SysfsWrite& write, bool dry_run);
// Step 2 (after xen-pciback loaded): unbind, new_slot, bind for each claimed device.
void pci_hide_bind(const SysRoot& root, const SysfsWrite& write, PciHideReport& report);
// Instead of step 2 when the module loading did not finish: each claimed device failed.
void pci_hide_abandon(PciHideReport& report, const std::string& why);
// Both steps at once.
PciHideReport apply_pci_hide(const SysRoot& root, const PciHideSurvey& survey,
                             const SysfsWrite& write, bool dry_run);

}  // namespace xa
