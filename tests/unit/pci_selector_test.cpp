// pciback-hide selectors: every form, every malformed form, matching.
#include "pci_selector.h"

#include <gtest/gtest.h>

namespace xa {
namespace {

PciDeviceIds e1000_at_00_04_0() {
    PciDeviceIds d;
    d.address = {0, 0, 4, 0};
    d.vendor = 0x8086;
    d.device = 0x100e;
    d.class_code = 0x020000;
    return d;
}

TEST(PciSelector, EveryFormParsesToItsCanonicalText) {
    const std::pair<const char*, const char*> cases[] = {
        {"0000:00:04.0", "0000:00:04.0"},     {"00:04.0", "0000:00:04.0"},
        {"0001:0A:1f.7", "0001:0a:1f.7"},     {"10000:00:00.0", "10000:00:00.0"},
        {"8086:100e", "8086:100e"},           {"8086:100E", "8086:100e"},
        {"class=0x0200", "class=0x0200"},     {"class=0x020000", "class=0x020000"},
        {"class=0x0C0330", "class=0x0c0330"},
    };
    for (const auto& [in, canon] : cases) {
        const auto s = parse_pci_selector(in);
        ASSERT_TRUE(s) << in;
        EXPECT_EQ(s->text(), canon) << in;
    }
    EXPECT_EQ(parse_pci_selector("00:04.0")->kind, PciSelector::Kind::address);
    EXPECT_EQ(parse_pci_selector("8086:100e")->kind, PciSelector::Kind::id);
    EXPECT_EQ(parse_pci_selector("class=0x0200")->kind, PciSelector::Kind::class16);
    EXPECT_EQ(parse_pci_selector("class=0x020000")->kind, PciSelector::Kind::class24);
}

TEST(PciSelector, MalformedFormsAreRejected) {
    for (const char* bad : {"",
                            "00:4.0x",
                            "00:4.0",
                            "0:04.0",
                            "00:04",
                            "00:04.8",
                            "00:20.0",
                            "00:04.00",
                            "000:00:04.0",
                            "123456789:00:04.0",
                            "g000:00:04.0",
                            "0000:00:04.0:1",
                            ":00:04.0",
                            "0000::04.0",
                            "00:04.-1",
                            "8086",
                            "8086:",
                            ":100e",
                            "8086:100",
                            "8086:100e0",
                            "808g:100e",
                            "8086-100e",
                            "8086:100e:1",
                            "class=0x02",
                            "class=0x02000",
                            "class=0x0200000",
                            "class=0200",
                            "class=0x",
                            "class=0xgg00",
                            "class=0x+200",
                            "CLASS=0x0200",
                            "class= 0x0200",
                            "0x8086:0x100e",
                            "+8086:100e",
                            "00:04.0 "}) {
        EXPECT_FALSE(parse_pci_selector(bad)) << "'" << bad << "'";
    }
}

TEST(PciSelector, AddressLongAndShortFormMatchTheSameDevice) {
    const PciDeviceIds d = e1000_at_00_04_0();
    EXPECT_TRUE(parse_pci_selector("0000:00:04.0")->matches(d));
    EXPECT_TRUE(parse_pci_selector("00:04.0")->matches(d));
    EXPECT_FALSE(parse_pci_selector("00:04.1")->matches(d));
    EXPECT_FALSE(parse_pci_selector("0001:00:04.0")->matches(d));
    EXPECT_FALSE(parse_pci_selector("01:04.0")->matches(d));
}

TEST(PciSelector, VendorDeviceMatchesBothIds) {
    PciDeviceIds d = e1000_at_00_04_0();
    EXPECT_TRUE(parse_pci_selector("8086:100e")->matches(d));
    EXPECT_FALSE(parse_pci_selector("8086:100f")->matches(d));
    EXPECT_FALSE(parse_pci_selector("8087:100e")->matches(d));
    d.vendor.reset();  // unreadable vendor file: no match, never a guess
    EXPECT_FALSE(parse_pci_selector("8086:100e")->matches(d));
}

TEST(PciSelector, ClassMatches16BitPrefixOr24BitWhole) {
    PciDeviceIds d = e1000_at_00_04_0();
    EXPECT_TRUE(parse_pci_selector("class=0x0200")->matches(d));
    EXPECT_TRUE(parse_pci_selector("class=0x020000")->matches(d));
    EXPECT_FALSE(parse_pci_selector("class=0x0280")->matches(d));
    EXPECT_FALSE(parse_pci_selector("class=0x020001")->matches(d));
    d.class_code = 0x020001;  // same base class and subclass, another prog-if
    EXPECT_TRUE(parse_pci_selector("class=0x0200")->matches(d));
    EXPECT_FALSE(parse_pci_selector("class=0x020000")->matches(d));
    d.class_code = 0x000200;  // the 16-bit value is the top two bytes, not the bottom
    EXPECT_FALSE(parse_pci_selector("class=0x0200")->matches(d));
    d.class_code.reset();
    EXPECT_FALSE(parse_pci_selector("class=0x0200")->matches(d));
}

TEST(PciSelector, SysfsHexFilesAndAddressText) {
    EXPECT_EQ(parse_sysfs_hex("0x8086\n", 0xffff), 0x8086U);
    EXPECT_EQ(parse_sysfs_hex("0x020000\n", 0xffffff), 0x020000U);
    EXPECT_FALSE(parse_sysfs_hex("0x10000\n", 0xffff));
    EXPECT_FALSE(parse_sysfs_hex("8086\n", 0xffff));
    EXPECT_FALSE(parse_sysfs_hex("0x\n", 0xffff));
    EXPECT_FALSE(parse_sysfs_hex("0x8086\n\n", 0xffff));
    EXPECT_FALSE(parse_sysfs_hex("", 0xffff));
    EXPECT_EQ(pci_address_text({0x10000, 0xab, 0x1f, 7}), "10000:ab:1f.7");
    EXPECT_EQ(parse_pci_address("0000:00:04.0"), (PciAddress{0, 0, 4, 0}));
}

}  // namespace
}  // namespace xa
