#include "platform.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cpuid.h"
#include "sysroot.h"
#include "test_util.h"

namespace xa {
namespace {

using test::fixture;

struct Expected {
    const char* fixture;
    Hypervisor hypervisor;
    Role role;
    GuestType guest_type;
    const char* version;  // nullptr: none
    // The hand-made roots say Debian 12's kernel; a capture says the kernel of its boot.
    const char* kernel = "6.1.0-56-amd64";
};

// Test names show the fixture, not the struct's bytes.
void PrintTo(const Expected& e, std::ostream* os) { *os << e.fixture; }

class FixtureDetection : public ::testing::TestWithParam<Expected> {};

TEST_P(FixtureDetection, MatchesTheRealValues) {
    const Expected& x = GetParam();
    const Platform p = detect_platform(SysRoot(fixture(x.fixture)), nullptr);
    EXPECT_EQ(p.hypervisor, x.hypervisor);
    EXPECT_EQ(p.role, x.role);
    EXPECT_EQ(p.guest_type, x.guest_type);
    if (x.version) {
        EXPECT_EQ(p.xen_version, std::optional<std::string>(x.version));
    } else {
        EXPECT_FALSE(p.xen_version.has_value());
    }
    EXPECT_EQ(p.kernel, std::optional<std::string>(x.kernel));
    EXPECT_FALSE(p.evidence.empty());
    // /sys/bus/xen and /sys/bus/xen-backend exist in every fixture: never evidence.
    for (const Evidence& e : p.evidence) EXPECT_EQ(e.source.find("sys/bus/xen"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FixtureDetection,
    ::testing::Values(
        Expected{"pv-dom0-before-xenfs", Hypervisor::xen, Role::dom0, GuestType::pv, "4.17.7"},
        Expected{"pv-dom0-after-xenfs", Hypervisor::xen, Role::dom0, GuestType::pv, "4.17.7"},
        Expected{"pvh-dom0", Hypervisor::xen, Role::dom0, GuestType::pvh, "4.17.7"},
        Expected{"pv-domu", Hypervisor::xen, Role::domU, GuestType::pv, "4.17.7"},
        Expected{"pvh-domu", Hypervisor::xen, Role::domU, GuestType::pvh, "4.17.7"},
        Expected{"hvm-domu", Hypervisor::xen, Role::domU, GuestType::hvm, "4.17.7"},
        Expected{"domu-no-guest-type", Hypervisor::xen, Role::domU, GuestType::unknown, "4.17.7"},
        Expected{"native", Hypervisor::none, Role::none, GuestType::unknown, nullptr},
        Expected{"kvm-guest", Hypervisor::none, Role::none, GuestType::unknown, nullptr},
        Expected{"other-hypervisor", Hypervisor::none, Role::none, GuestType::unknown, nullptr},
        Expected{"garbage", Hypervisor::xen, Role::domU, GuestType::unknown, nullptr},
        Expected{"garbage-dom0", Hypervisor::xen, Role::dom0, GuestType::pv, nullptr},
        // Captured by stage boot (ci/boot/capture-fixture.sh): boot-xen, boot-xen-trixie,
        // boot-native of 2026-12-07.
        Expected{"pv-dom0-boot", Hypervisor::xen, Role::dom0, GuestType::pv, "4.17.7",
                 "6.1.0-57-amd64"},
        Expected{"pv-dom0-xen420-boot", Hypervisor::xen, Role::dom0, GuestType::pv, "4.20.5-pre",
                 "6.12.118+deb13-amd64"},
        Expected{"native-boot", Hypervisor::none, Role::none, GuestType::unknown, nullptr,
                 "6.1.0-57-amd64"},
        // The HVM guest (PV drivers, QEMU as its device model) of boot-xen with
        // XA_BOOT_HVM=1, 2026-12-07.
        Expected{"hvm-domu-boot", Hypervisor::xen, Role::domU, GuestType::hvm, "4.17.7",
                 "6.1.0-57-amd64"},
        // The PVH guest of boot-xen-xakernel with XA_BOOT_PVH=1 (our single-config kernel),
        // 2026-12-07.
        Expected{"pvh-domu-boot", Hypervisor::xen, Role::domU, GuestType::pvh, "4.17.7",
                 "6.1.192-xen-autoload"},
        // Captured by stage arm64's boots (ci/arm64/init): Xen 4.17 on qemu-system-aarch64
        // with Debian's arm64 kernel as dom0, and the same kernel natively, 2026-12-07. On
        // Arm the kernel reports every Xen domain as HVM.
        Expected{"arm64-dom0-boot", Hypervisor::xen, Role::dom0, GuestType::hvm, "4.17.7",
                 "6.1.0-57-arm64"},
        Expected{"arm64-native-boot", Hypervisor::none, Role::none, GuestType::unknown, nullptr,
                 "6.1.0-57-arm64"}),
    [](const auto& param_info) {
        std::string n = param_info.param.fixture;
        std::replace(n.begin(), n.end(), '-', '_');
        return n;
    });

bool has_evidence(const Platform& p, const std::string& source, const std::string& fact_part) {
    return std::any_of(p.evidence.begin(), p.evidence.end(), [&](const Evidence& e) {
        return e.source == source && e.fact.find(fact_part) != std::string::npos;
    });
}

TEST(Detection, Dom0BeforeXenfsComesFromTheFeatureBit) {
    const Platform p = detect_platform(SysRoot(fixture("pv-dom0-before-xenfs")), nullptr);
    EXPECT_TRUE(
        has_evidence(p, "sys/hypervisor/properties/features", "XENFEAT_dom0 set (0x000228f0)"));
}

TEST(Detection, GarbageIsNotedAndSkipped) {
    const Platform p = detect_platform(SysRoot(fixture("garbage")), nullptr);
    EXPECT_TRUE(has_evidence(p, "sys/hypervisor/properties/features", "not a hex bitmap"));
    EXPECT_TRUE(has_evidence(p, "sys/hypervisor/guest_type", "unknown value"));
    EXPECT_TRUE(has_evidence(p, "proc/xen/capabilities", "no control_d"));
    EXPECT_TRUE(has_evidence(p, "sys/hypervisor/version/minor", "not a number"));
}

TEST(Detection, FallsBackToXenbusBackendWhenFeaturesAreEmpty) {
    const Platform p = detect_platform(SysRoot(fixture("garbage-dom0")), nullptr);
    EXPECT_EQ(p.role, Role::dom0);
    EXPECT_TRUE(has_evidence(p, "dev/xen/xenbus_backend", "exists"));
}

TEST(Detection, FallsBackToControlDAfterXenfs) {
    test::TempDir t;
    t.write("sys/hypervisor/type", "xen\n");
    t.write("proc/xen/capabilities", "control_d\n");
    t.write("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.role, Role::dom0);
    EXPECT_TRUE(has_evidence(p, "proc/xen/capabilities", "control_d"));
}

TEST(Detection, UnreadableAndOversizedFilesAreIgnored) {
    test::TempDir t;
    t.write("sys/hypervisor/type", "xen\n");
    t.mkdir("sys/hypervisor/properties/features");  // a directory where a file belongs
    t.write("sys/hypervisor/guest_type", std::string(200 * 1024, 'P'));
    t.write("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.hypervisor, Hypervisor::xen);
    EXPECT_EQ(p.role, Role::domU);
    EXPECT_EQ(p.guest_type, GuestType::unknown);
    EXPECT_TRUE(has_evidence(p, "sys/hypervisor/properties/features", "unreadable"));
    EXPECT_TRUE(has_evidence(p, "sys/hypervisor/guest_type", "EFBIG"));
}

TEST(Detection, EmptyRootIsNoneWithoutKernel) {
    test::TempDir t;
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.hypervisor, Hypervisor::none);
    EXPECT_EQ(p.role, Role::none);
    EXPECT_FALSE(p.kernel.has_value());  // never uname() of the host under a root
}

TEST(Detection, ProcXenAloneMeansXen) {
    test::TempDir t;
    t.mkdir("proc/xen");
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.hypervisor, Hypervisor::xen);
    EXPECT_EQ(p.role, Role::domU);
}

// Arm: the device tree says Xen before /sys/hypervisor exists, with the version when no
// sysfs file gives it; the features bitmap gives the role as on x86.
TEST(Detection, ArmDeviceTreeAloneMeansXenWithItsVersion) {
    test::TempDir t;
    t.write("proc/device-tree/hypervisor/compatible", std::string("xen,xen-4.17\0xen,xen\0", 22));
    t.write("sys/hypervisor/properties/features", "00000a00\n");  // XENFEAT_dom0 (bit 11)
    t.write("proc/sys/kernel/osrelease", "6.1.0-57-arm64\n");
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.hypervisor, Hypervisor::xen);
    EXPECT_EQ(p.role, Role::dom0);
    EXPECT_EQ(p.xen_version, "4.17");
    EXPECT_TRUE(has_evidence(p, "proc/device-tree/hypervisor/compatible", "xen,xen"));
    EXPECT_TRUE(has_evidence(p, "proc/device-tree/hypervisor/compatible", "version 4.17"));
}

TEST(Detection, ArmDeviceTreeOfAnotherHypervisorIsNotXen) {
    test::TempDir t;
    t.write("proc/device-tree/hypervisor/compatible", std::string("kvm,other\0", 10));
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.hypervisor, Hypervisor::none);
    EXPECT_TRUE(has_evidence(p, "proc/device-tree/hypervisor/compatible", "no xen,xen"));
}

// The sysfs version wins over the device tree's.
TEST(Detection, SysfsVersionBeforeTheDeviceTree) {
    test::TempDir t;
    t.write("sys/hypervisor/type", "xen\n");
    t.write("sys/hypervisor/version/major", "4\n");
    t.write("sys/hypervisor/version/minor", "17\n");
    t.write("sys/hypervisor/version/extra", ".7\n");
    t.write("proc/device-tree/hypervisor/compatible", std::string("xen,xen-4.17\0xen,xen\0", 22));
    const Platform p = detect_platform(SysRoot(t.path()), nullptr);
    EXPECT_EQ(p.xen_version, "4.17.7");
}

class FakeCpuid final : public CpuidProbe {
  public:
    std::optional<XenCpuid> plain, forced;
    mutable int forced_calls = 0;
    std::optional<XenCpuid> scan_plain() const override { return plain; }
    std::optional<XenCpuid> scan_forced_emulation() const override {
        ++forced_calls;
        return forced;
    }
};

TEST(DetectionCpuid, PvWithoutGuestTypeThroughForcedEmulation) {
    FakeCpuid cpuid;
    cpuid.forced = XenCpuid{0x40000000, true, 4, 17};
    const Platform p = detect_platform(SysRoot(fixture("domu-no-guest-type")), &cpuid);
    EXPECT_EQ(p.guest_type, GuestType::pv);
    EXPECT_EQ(cpuid.forced_calls, 1);
}

TEST(DetectionCpuid, HvmContainerWithPlatformPciDevice) {
    test::TempDir t;
    t.write("sys/hypervisor/type", "xen\n");
    t.write("sys/bus/pci/devices/0000:00:02.0/vendor", "0x5853\n");
    t.write("sys/bus/pci/devices/0000:00:02.0/device", "0x0001\n");
    FakeCpuid cpuid;
    cpuid.plain = XenCpuid{0x40000100, false, 4, 17};  // behind Viridian leaves
    const Platform p = detect_platform(SysRoot(t.path()), &cpuid);
    EXPECT_EQ(p.guest_type, GuestType::hvm);
    EXPECT_EQ(cpuid.forced_calls, 0);  // never the forced prefix when plain CPUID sees Xen
    EXPECT_EQ(p.xen_version, std::optional<std::string>("4.17"));
}

TEST(DetectionCpuid, NoForcedEmulationOnNativeHosts) {
    FakeCpuid cpuid;
    const Platform p = detect_platform(SysRoot(fixture("native")), &cpuid);
    EXPECT_EQ(p.hypervisor, Hypervisor::none);
    EXPECT_EQ(cpuid.forced_calls, 0);
}

TEST(DetectionCpuid, RealProbeDoesNotCrash) {
    // On whatever machine runs the tests: both scans return and the SIGILL guard holds.
    const HardwareCpuidProbe probe;
    (void)probe.scan_plain();
    const auto forced = probe.scan_forced_emulation();
    // Outside a PV domain the forced prefix is #UD: caught, no signature.
    if (!std::filesystem::exists("/proc/xen")) {
        EXPECT_FALSE(forced.has_value());
    }
}

TEST(Roles, NamesRoundTrip) {
    for (const Role r : {Role::none, Role::dom0, Role::domU, Role::driver_domain})
        EXPECT_EQ(parse_role(role_name(r)), r);
    EXPECT_FALSE(parse_role("dom1").has_value());
}

}  // namespace
}  // namespace xa
