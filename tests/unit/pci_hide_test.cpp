// pciback-hide on fake sysfs trees: which devices the rules match, the writes in their order,
// idempotence, the no-op roles, failures as one line, confinement to the root.
#include "pci_hide.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "sysroot.h"
#include "test_util.h"

namespace xa {
namespace {

// A sysfs tree as the kernel lays it out: sys/bus/pci/devices/ADDR links to
// sys/devices/pci0000:00/ADDR, whose driver link points at sys/bus/pci/drivers/NAME.
class FakePci {
  public:
    const std::string& root() const { return t_.path(); }

    void device(const std::string& addr, const char* vendor, const char* device, const char* cls,
                const std::string& driver = {}) const {
        const std::string dir = "sys/devices/pci0000:00/" + addr;
        t_.write(dir + "/vendor", std::string(vendor) + "\n");
        t_.write(dir + "/device", std::string(device) + "\n");
        t_.write(dir + "/class", std::string(cls) + "\n");
        t_.write(dir + "/driver_override", "(null)\n");
        t_.mkdir("sys/bus/pci/devices");
        link("../../../devices/pci0000:00/" + addr, "sys/bus/pci/devices/" + addr);
        if (!driver.empty()) {
            this->driver(driver);
            link("../../../bus/pci/drivers/" + driver, dir + "/driver");
        }
    }
    void driver(const std::string& name) const {
        for (const char* f : {"bind", "unbind", "new_slot"})
            t_.write("sys/bus/pci/drivers/" + name + "/" + f, "");
    }
    void link(const std::string& target, const std::string& rel) const {
        ASSERT_EQ(::symlink(target.c_str(), (t_.path() + "/" + rel).c_str()), 0) << rel;
    }
    std::string read(const std::string& rel) const {
        return test::read_file(t_.path() + "/" + rel);
    }

  private:
    test::TempDir t_;
};

std::vector<PciHideRule> rules_of(const std::vector<std::string>& selectors) {
    std::vector<PciHideRule> rules;
    for (std::size_t i = 0; i < selectors.size(); ++i)
        rules.push_back({*parse_pci_selector(selectors[i]),
                         "/etc/xen-autoload/50-hide.conf:" + std::to_string(i + 1)});
    return rules;
}

// The real writer, recording "REL <- VALUE" in order.
struct Recorder {
    const SysRoot& root;
    std::vector<std::string> writes;
    SysfsWrite writer() {
        return [this](const std::string& rel, std::string_view value) {
            writes.push_back(rel + " <- " + std::string(value));
            return root.write(rel, value);
        };
    }
};

// e1000 NIC bound to e1000, a USB controller bound to xhci_hcd, an unbound NIC.
void standard_tree(const FakePci& pci) {
    pci.device("0000:00:04.0", "0x8086", "0x100e", "0x020000", "e1000");
    pci.device("0000:00:05.0", "0x1b36", "0x000d", "0x0c0330", "xhci_hcd");
    pci.device("0000:00:06.0", "0x10ec", "0x8139", "0x020001");
    pci.driver("pciback");
}

std::vector<std::string> addresses(const PciHideSurvey& s) {
    std::vector<std::string> out;
    for (const PciHideMatch& m : s.devices) out.push_back(m.address + "=" + m.selector);
    return out;
}

TEST(PciHide, DeviceBoundToAnotherDriverGetsOverrideUnbindNewSlotBindInOrder) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    const PciHideSurvey s = survey_pci_hide(root, Role::dom0, rules_of({"8086:100e"}));
    ASSERT_TRUE(s.applies);
    ASSERT_EQ(s.devices.size(), 1U);
    EXPECT_EQ(s.devices[0].driver, "e1000");
    EXPECT_FALSE(s.complete());
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(root, s, rec.writer(), false);
    EXPECT_EQ(rec.writes, (std::vector<std::string>{
                              "sys/bus/pci/devices/0000:00:04.0/driver_override <- pciback",
                              "sys/bus/pci/drivers/e1000/unbind <- 0000:00:04.0",
                              "sys/bus/pci/drivers/pciback/new_slot <- 0000:00:04.0",
                              "sys/bus/pci/drivers/pciback/bind <- 0000:00:04.0",
                          }));
    EXPECT_EQ(pci.read("sys/devices/pci0000:00/0000:00:04.0/driver_override"), "pciback");
    EXPECT_EQ(pci.read("sys/bus/pci/drivers/e1000/unbind"), "0000:00:04.0");
    EXPECT_EQ(pci.read("sys/bus/pci/drivers/pciback/bind"), "0000:00:04.0");
    ASSERT_EQ(r.results.size(), 1U);
    EXPECT_EQ(r.results[0].status, PciHideStatus::hidden);
    EXPECT_EQ(r.results[0].driver_before, "e1000");
    EXPECT_EQ(r.results[0].message,
              "0000:00:04.0: hidden: bound to pciback, was e1000 (pciback-hide 8086:100e "
              "(/etc/xen-autoload/50-hide.conf:1))");
    EXPECT_TRUE(r.ok());
}

TEST(PciHide, UnboundDeviceIsNotUnbound) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(
        root, survey_pci_hide(root, Role::dom0, rules_of({"00:06.0"})), rec.writer(), false);
    EXPECT_EQ(rec.writes, (std::vector<std::string>{
                              "sys/bus/pci/devices/0000:00:06.0/driver_override <- pciback",
                              "sys/bus/pci/drivers/pciback/new_slot <- 0000:00:06.0",
                              "sys/bus/pci/drivers/pciback/bind <- 0000:00:06.0",
                          }));
    EXPECT_TRUE(r.ok());
    EXPECT_FALSE(r.results.at(0).driver_before);
}

TEST(PciHide, MatchingByAddressIdsAndClassFirstRuleNamesTheDevice) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    EXPECT_EQ(addresses(survey_pci_hide(root, Role::dom0, rules_of({"class=0x0200"}))),
              (std::vector<std::string>{"0000:00:04.0=class=0x0200", "0000:00:06.0=class=0x0200"}));
    EXPECT_EQ(addresses(survey_pci_hide(root, Role::dom0, rules_of({"class=0x020000"}))),
              (std::vector<std::string>{"0000:00:04.0=class=0x020000"}));
    EXPECT_EQ(addresses(survey_pci_hide(root, Role::dom0, rules_of({"00:05.0"}))),
              (std::vector<std::string>{"0000:00:05.0=0000:00:05.0"}));
    EXPECT_EQ(addresses(survey_pci_hide(root, Role::dom0, rules_of({"0000:00:05.0"}))),
              (std::vector<std::string>{"0000:00:05.0=0000:00:05.0"}));
    const PciHideSurvey both =
        survey_pci_hide(root, Role::dom0, rules_of({"10ec:8139", "class=0x0200"}));
    EXPECT_EQ(addresses(both),
              (std::vector<std::string>{"0000:00:04.0=class=0x0200", "0000:00:06.0=10ec:8139"}));
    EXPECT_EQ(both.rules[1].addresses, (std::vector<std::string>{"0000:00:04.0", "0000:00:06.0"}));
    EXPECT_EQ(both.devices[1].origin, "/etc/xen-autoload/50-hide.conf:1");
}

TEST(PciHide, AlreadyBoundToPcibackIsLeftAlone) {
    FakePci pci;
    pci.device("0000:00:04.0", "0x8086", "0x100e", "0x020000", "pciback");
    const SysRoot root(pci.root());
    const PciHideSurvey s = survey_pci_hide(root, Role::dom0, rules_of({"8086:100e"}));
    EXPECT_TRUE(s.complete());
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(root, s, rec.writer(), false);
    EXPECT_TRUE(rec.writes.empty());
    ASSERT_EQ(r.results.size(), 1U);
    EXPECT_EQ(r.results[0].status, PciHideStatus::already);
    EXPECT_EQ(r.results[0].message,
              "0000:00:04.0: already bound to pciback (pciback-hide 8086:100e "
              "(/etc/xen-autoload/50-hide.conf:1))");
    EXPECT_EQ(pci.read("sys/devices/pci0000:00/0000:00:04.0/driver_override"), "(null)\n");
}

TEST(PciHide, OnlyTheDom0RoleHidesAnything) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    for (const Role role : {Role::none, Role::domU, Role::driver_domain}) {
        const PciHideSurvey s = survey_pci_hide(root, role, rules_of({"8086:100e", "00:05.0"}));
        EXPECT_FALSE(s.applies);
        EXPECT_TRUE(s.devices.empty());
        EXPECT_TRUE(s.complete());
        EXPECT_EQ(s.reason, "role " + std::string(role_name(role)) +
                                ": only the initial domain (dom0) hides PCI devices for "
                                "xen-pciback; 2 pciback-hide selector(s) not applied");
        Recorder rec{root, {}};
        const PciHideReport r = apply_pci_hide(root, s, rec.writer(), false);
        EXPECT_TRUE(rec.writes.empty());
        EXPECT_TRUE(r.results.empty());
        EXPECT_EQ(r.notes, (std::vector<std::string>{"pciback-hide: " + s.reason}));
    }
    // No rules: nothing at all, not even a note.
    const PciHideSurvey none = survey_pci_hide(root, Role::dom0, {});
    EXPECT_FALSE(none.applies);
    EXPECT_TRUE(none.reason.empty());
}

TEST(PciHide, WriteFailureIsOneLineNamingDeviceFileAndErrnoAndStopsThatDevice) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    std::vector<std::string> writes;
    const SysfsWrite refuse_unbind = [&](const std::string& rel, std::string_view value) {
        writes.push_back(rel);
        return rel.ends_with("/unbind") ? EACCES : root.write(rel, value);
    };
    const PciHideReport r = apply_pci_hide(
        root, survey_pci_hide(root, Role::dom0, rules_of({"class=0x0200"})), refuse_unbind, false);
    ASSERT_EQ(r.results.size(), 2U);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.results[0].status, PciHideStatus::failed);
    EXPECT_EQ(r.results[0].err, EACCES);
    EXPECT_EQ(r.results[0].message,
              "0000:00:04.0: cannot write '0000:00:04.0' to " + pci.root() +
                  "/sys/bus/pci/drivers/e1000/unbind: Permission denied (EACCES) (pciback-hide "
                  "class=0x0200 (/etc/xen-autoload/50-hide.conf:1))");
    EXPECT_EQ(r.results[0].message.find('\n'), std::string::npos);
    // The other device is still hidden; the failed one got no new_slot/bind.
    EXPECT_EQ(r.results[1].status, PciHideStatus::hidden);
    EXPECT_EQ(std::count(writes.begin(), writes.end(), "sys/bus/pci/drivers/pciback/bind"), 1);
    EXPECT_EQ(pci.read("sys/bus/pci/drivers/pciback/bind"), "0000:00:06.0");

    // A real failure of the real writer: no driver_override file (an old kernel).
    ASSERT_EQ(
        ::unlink((pci.root() + "/sys/devices/pci0000:00/0000:00:06.0/driver_override").c_str()), 0);
    const PciHideReport r2 =
        apply_pci_hide(root, survey_pci_hide(root, Role::dom0, rules_of({"10ec:8139"})),
                       sysroot_writer(root), false);
    EXPECT_EQ(r2.results.at(0).message,
              "0000:00:06.0: cannot write 'pciback' to " + pci.root() +
                  "/sys/bus/pci/devices/0000:00:06.0/driver_override: No such file or directory "
                  "(ENOENT) (pciback-hide 10ec:8139 (/etc/xen-autoload/50-hide.conf:1))");
}

// In xen-autoload.service /sys is read-only: the failure says how rules take effect.
TEST(PciHide, ReadOnlySysfsNamesTheInitramfsRebuild) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    const SysfsWrite read_only = [](const std::string&, std::string_view) { return EROFS; };
    const PciHideReport r = apply_pci_hide(
        root, survey_pci_hide(root, Role::dom0, rules_of({"10ec:8139"})), read_only, false);
    ASSERT_EQ(r.results.size(), 1U);
    EXPECT_EQ(r.results[0].status, PciHideStatus::failed);
    EXPECT_EQ(r.results[0].message,
              "0000:00:06.0: cannot write 'pciback' to " + pci.root() +
                  "/sys/bus/pci/devices/0000:00:06.0/driver_override: Read-only file system "
                  "(EROFS) (pciback-hide 10ec:8139 (/etc/xen-autoload/50-hide.conf:1)); rules are "
                  "applied from the initramfs: run 'update-initramfs -u' (or 'dracut -f') and "
                  "reboot");
}

TEST(PciHide, WithoutThePcibackDriverNothingIsUnbound) {
    FakePci pci;
    pci.device("0000:00:04.0", "0x8086", "0x100e", "0x020000", "e1000");
    const SysRoot root(pci.root());
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(
        root, survey_pci_hide(root, Role::dom0, rules_of({"8086:100e"})), rec.writer(), false);
    // driver_override only: the device keeps its driver, no other driver can take it later.
    EXPECT_EQ(
        rec.writes,
        (std::vector<std::string>{"sys/bus/pci/devices/0000:00:04.0/driver_override <- pciback"}));
    ASSERT_EQ(r.results.size(), 1U);
    EXPECT_EQ(r.results[0].status, PciHideStatus::failed);
    EXPECT_NE(r.results[0].message.find("0000:00:04.0: not hidden: no pciback driver (" +
                                        pci.root() + "/sys/bus/pci/drivers/pciback is missing"),
              std::string::npos)
        << r.results[0].message;
}

TEST(PciHide, UnmatchedSelectorsAreNotesAMissingAddressAWarning) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    const PciHideSurvey s =
        survey_pci_hide(root, Role::dom0, rules_of({"0000:00:1f.0", "class=0x0300", "00:04.0"}));
    EXPECT_EQ(s.warnings, (std::vector<std::string>{
                              "pciback-hide 0000:00:1f.0 (/etc/xen-autoload/50-hide.conf:1): no "
                              "such PCI device"}));
    EXPECT_EQ(s.notes, (std::vector<std::string>{
                           "pciback-hide class=0x0300 (/etc/xen-autoload/50-hide.conf:2): "
                           "matches no device"}));
    EXPECT_EQ(s.devices.size(), 1U);
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(root, s, rec.writer(), false);
    EXPECT_TRUE(r.ok());  // hardware changes: not a failure
    EXPECT_EQ(r.notes, s.notes);
}

TEST(PciHide, DryRunWritesNothing) {
    FakePci pci;
    standard_tree(pci);
    const SysRoot root(pci.root());
    Recorder rec{root, {}};
    const PciHideReport r = apply_pci_hide(
        root, survey_pci_hide(root, Role::dom0, rules_of({"class=0x0200"})), rec.writer(), true);
    EXPECT_TRUE(rec.writes.empty());
    ASSERT_EQ(r.results.size(), 2U);
    EXPECT_EQ(r.results[0].status, PciHideStatus::would_hide);
    EXPECT_EQ(r.results[0].message,
              "0000:00:04.0: would hide from e1000 (driver_override, unbind, new_slot, bind) "
              "(pciback-hide class=0x0200 (/etc/xen-autoload/50-hide.conf:1))");
    EXPECT_EQ(r.results[1].message.substr(0, 64),
              "0000:00:06.0: would hide from no driver (driver_override, new_sl");
}

// A hostile tree: a device link and a driver link pointing out of the root are read inside
// it; nothing outside is read or written.
TEST(PciHide, LinksOutOfTheRootStayInside) {
    test::TempDir outside;
    outside.write("dev/vendor", "0x8086\n");
    outside.write("dev/device", "0x100e\n");
    outside.write("dev/class", "0x020000\n");
    const std::string override_file = outside.write("dev/driver_override", "(null)\n");
    const std::string unbind = outside.write("sys/bus/pci/drivers/e1000/unbind", "");
    FakePci pci;
    pci.device("0000:00:04.0", "0x8086", "0x100e", "0x020000");
    pci.link(outside.path() + "/sys/bus/pci/drivers/e1000",
             "sys/devices/pci0000:00/0000:00:04.0/driver");
    pci.link(outside.path() + "/dev", "sys/bus/pci/devices/0000:00:07.0");
    pci.driver("pciback");
    const SysRoot root(pci.root());
    const PciHideSurvey s = survey_pci_hide(root, Role::dom0, rules_of({"8086:100e", "00:07.0"}));
    // 00:07.0's ids are unreadable inside the root: warned about, matched by address only.
    EXPECT_EQ(addresses(s),
              (std::vector<std::string>{"0000:00:04.0=8086:100e", "0000:00:07.0=0000:00:07.0"}));
    EXPECT_EQ(s.warnings.size(), 3U);
    const PciHideReport r = apply_pci_hide(root, s, sysroot_writer(root), false);
    // 00:04.0's driver is "e1000" (the link's name); its unbind is looked up inside the root,
    // where there is none.
    EXPECT_EQ(r.results.at(0).status, PciHideStatus::failed);
    EXPECT_NE(r.results[0].message.find(pci.root() + "/sys/bus/pci/drivers/e1000/unbind: No such "
                                                     "file or directory (ENOENT)"),
              std::string::npos)
        << r.results[0].message;
    EXPECT_EQ(r.results.at(1).status, PciHideStatus::failed);
    EXPECT_EQ(test::read_file(override_file), "(null)\n");
    EXPECT_EQ(test::read_file(unbind), "");
}

}  // namespace
}  // namespace xa
