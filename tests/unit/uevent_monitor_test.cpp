// uevent_monitor.cpp: parsing kernel uevent messages and the sender check. (The netlink
// socket itself: tests/boot/boot_netlink_test.cpp.)
#include "uevent_monitor.h"

#include <gtest/gtest.h>

#include <span>
#include <string>

#include "../boot/uevent_samples.h"

namespace xa {
namespace {

using namespace std::string_literals;

std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }

using test::vif_add;

TEST(ParseUevent, KernelMessage) {
    ASSERT_EQ(vif_add().back(), '\0');
    const auto ev = parse_uevent(bytes(vif_add()));
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->action, "add");
    EXPECT_EQ(ev->devpath, "/devices/xen-backend/vif-3-0");
    EXPECT_EQ(ev->get("MODALIAS"), "xen-backend:vif");
    EXPECT_EQ(ev->get("SEQNUM"), "1234");
    EXPECT_FALSE(ev->get("NOPE"));
}

TEST(ParseUevent, CpuModaliasWithTheKernelsTrailingNewline) {
    // What `udevadm trigger` makes the kernel send for each CPU at every boot.
    const auto ev = parse_uevent(
        bytes(("change@/devices/system/cpu/cpu0\0ACTION=change\0DEVPATH=/devices/system/cpu/cpu0\0"
               "SUBSYSTEM=cpu\0SYNTH_UUID=0\0MODALIAS=cpu:type:x86,ven0002fam0019mod0011:feature:,"
               "0000,0001\n\0SEQNUM=2951\0"s)));
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->get("MODALIAS"), "cpu:type:x86,ven0002fam0019mod0011:feature:,0000,0001");
    // Only one newline, only at the end.
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=a\n\n\0"s))));
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=a\nb\0"s))));
}

TEST(ParseUevent, RefusesOtherFormatsAndGarbage) {
    // udev's own monitor format starts with "libudev\0" and a binary header.
    EXPECT_FALSE(parse_uevent(bytes(("libudev\0\xfe\xed\xca\xfe"s))));
    // Header disagrees with ACTION/DEVPATH.
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/b\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("remove@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0"s))));
    // No '@' header, no ACTION, a field without '=', control characters, no final NUL.
    EXPECT_FALSE(parse_uevent(bytes(("ACTION=add\0DEVPATH=/devices/a\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0DEVPATH=/devices/a\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0JUNK\0"s))));
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=\x1b[2J\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a"s))));
    EXPECT_FALSE(parse_uevent(bytes(std::string())));
}

TEST(CheckSender, OnlyTheKernelAsRoot) {
    EXPECT_EQ(check_sender(0, 0u), SenderVerdict::kernel);
    EXPECT_EQ(check_sender(4242, 0u), SenderVerdict::not_kernel_port);
    EXPECT_EQ(check_sender(0, std::nullopt), SenderVerdict::no_credentials);
    EXPECT_EQ(check_sender(0, 1000u), SenderVerdict::not_root);
}

}  // namespace
}  // namespace xa
