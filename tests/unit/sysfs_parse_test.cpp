#include "sysfs_parse.h"

#include <gtest/gtest.h>

#include <string>

#include "number.h"

namespace xa {
namespace {

TEST(SysfsParse, FeaturesBitmapOfARealPvDom0HasXenfeatDom0) {
    const auto bits = parse_hex_bitmap("000228f0\n");
    ASSERT_TRUE(bits.has_value());
    EXPECT_EQ(*bits, 0x228f0U);
    EXPECT_TRUE((*bits >> kXenFeatDom0Bit) & 1U);
}

TEST(SysfsParse, FeaturesBitmapRejectsGarbage) {
    EXPECT_FALSE(parse_hex_bitmap("").has_value());
    EXPECT_FALSE(parse_hex_bitmap("\n").has_value());
    EXPECT_FALSE(parse_hex_bitmap("zz28f0").has_value());
    EXPECT_FALSE(parse_hex_bitmap("0x228f0").has_value());
    EXPECT_FALSE(parse_hex_bitmap("00000000000000000000").has_value());
    EXPECT_FALSE(parse_hex_bitmap("-1").has_value());
}

}  // namespace
}  // namespace xa

namespace xa {
namespace {

TEST(SysfsParse, DeviceTreeHypervisorNode) {
    using namespace std::string_literals;
    const auto xen = parse_dt_hypervisor("xen,xen-4.17\0xen,xen\0"s);
    ASSERT_TRUE(xen.has_value());
    EXPECT_EQ(xen->version, "4.17");
    // The generic entry alone: Xen, no version; no trailing NUL is fine too.
    const auto bare = parse_dt_hypervisor("xen,xen"s);
    ASSERT_TRUE(bare.has_value());
    EXPECT_FALSE(bare->version.has_value());
    // A versioned entry without the generic one is not the binding.
    EXPECT_FALSE(parse_dt_hypervisor("xen,xen-4.17\0"s).has_value());
    EXPECT_FALSE(parse_dt_hypervisor(""s).has_value());
    EXPECT_FALSE(parse_dt_hypervisor("xen,xenx\0xen\0"s).has_value());
    // A version that is not digits and dots is left out, not guessed.
    EXPECT_FALSE(parse_dt_hypervisor("xen,xen-4.17; rm\0xen,xen\0"s)->version.has_value());
    EXPECT_FALSE(parse_dt_hypervisor("xen,xen-\0xen,xen\0"s)->version.has_value());
    EXPECT_FALSE(parse_dt_hypervisor("xen,xen-" + std::string(17, '1') + "\0xen,xen\0"s)
                     ->version.has_value());
}

TEST(SysfsParse, GuestTypes) {
    EXPECT_EQ(parse_guest_type("PV\n"), GuestType::pv);
    EXPECT_EQ(parse_guest_type("PVH\n"), GuestType::pvh);
    EXPECT_EQ(parse_guest_type("HVM"), GuestType::hvm);
    EXPECT_FALSE(parse_guest_type("pv").has_value());
    EXPECT_FALSE(parse_guest_type("").has_value());
    EXPECT_FALSE(parse_guest_type("Xen\n").has_value());
}

TEST(SysfsParse, VersionParts) {
    // major and minor: the one number parser (number.h) on the trimmed value.
    auto part = [](std::string_view s) { return parse_unsigned(trim(s), 0, kXenVersionMax); };
    EXPECT_EQ(part("4\n"), 4U);
    EXPECT_EQ(part("17\n"), 17U);
    EXPECT_FALSE(part("").has_value());
    EXPECT_FALSE(part("seventeen").has_value());
    EXPECT_FALSE(part("99999999999").has_value());
    EXPECT_EQ(parse_version_extra(".7\n"), ".7");
    EXPECT_EQ(parse_version_extra("\n"), "");
    EXPECT_EQ(parse_version_extra("-rc\n"), "-rc");
    EXPECT_FALSE(parse_version_extra("\x01\x02\n").has_value());
    EXPECT_FALSE(parse_version_extra(". 7\n").has_value());
}

TEST(SysfsParse, KernelRelease) {
    EXPECT_EQ(parse_kernel_release("6.1.0-56-amd64\n"), "6.1.0-56-amd64");
    EXPECT_FALSE(parse_kernel_release("../../etc\n").has_value());
    EXPECT_FALSE(parse_kernel_release("..").has_value());
    EXPECT_FALSE(parse_kernel_release("").has_value());
    EXPECT_FALSE(parse_kernel_release("6.1 amd64").has_value());
}

TEST(SysfsParse, CapabilitiesControlD) {
    EXPECT_TRUE(capabilities_have_control_d("control_d\n"));
    EXPECT_TRUE(capabilities_have_control_d("foo,control_d"));
    EXPECT_FALSE(capabilities_have_control_d("control_dX\n"));
    EXPECT_FALSE(capabilities_have_control_d("\n"));
    EXPECT_FALSE(capabilities_have_control_d(""));
}

TEST(SysfsParse, ProcModules) {
    const auto m = parse_proc_modules(
        "xenfs 20480 1 - Live 0x0\nxen_privcmd 28672 1 xenfs, Live 0x0\n\n!!garbage line\n");
    EXPECT_EQ(m, (std::set<std::string>{"xenfs", "xen_privcmd"}));
}

TEST(SysfsParse, ModuleNames) {
    EXPECT_EQ(normalize_module_name("xen-netback"), "xen_netback");
    EXPECT_TRUE(is_valid_module_name("xen-netback"));
    EXPECT_FALSE(is_valid_module_name("xen netback"));
    EXPECT_FALSE(is_valid_module_name("../x"));
    EXPECT_FALSE(is_valid_module_name(""));
    EXPECT_FALSE(is_valid_module_name(std::string(65, 'a')));
}

TEST(SysfsParse, CmdlineBlacklist) {
    EXPECT_EQ(parse_cmdline_blacklist("BOOT_IMAGE=/vmlinuz ro modprobe.blacklist=xen-netback,a_b "
                                      "quiet modprobe.blacklist=c,,bad!name\n"),
              (std::set<std::string>{"xen_netback", "a_b", "c"}));
    EXPECT_TRUE(parse_cmdline_blacklist("").empty());
    EXPECT_TRUE(parse_cmdline_blacklist("xmodprobe.blacklist=a").empty());
}

}  // namespace
}  // namespace xa
