// kconfig_roles.cpp: what each kernel role needs, judged on small inline configs.
#include "kconfig_roles.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "kconfig_test_util.h"

namespace xa {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

TEST(KconfigRoles, EveryRoleWorksWhenEverythingIsOn) {
    auto v = check_kernel_config(parse_ok(all_required_config()), "all");
    ASSERT_EQ(v.roles.size(), 8u);
    EXPECT_EQ(v.arch, "x86");
    for (const auto& r : v.roles) EXPECT_EQ(r.works, r.name != "domU-arm") << r.name;
    EXPECT_EQ(v.role("domU")->working_roles,
              (std::vector<std::string>{"domU-pv", "domU-pvh", "domU-hvm"}));
    EXPECT_FALSE(v.role("domU-arm")->applies);
}

// Debian's arm64 config, as far as the roles look: no XEN_PV, XEN_PVH, XEN_PVHVM (x86
// symbols); XEN_DOM0 is def_bool y with XEN there.
constexpr const char* kArm64Config =
    "# Linux/arm64 6.1.192 Kernel Configuration\n"
    "CONFIG_ARM64=y\nCONFIG_64BIT=y\nCONFIG_SYSFS=y\nCONFIG_PROC_FS=y\nCONFIG_DEVTMPFS=y\n"
    "CONFIG_MODULES=y\nCONFIG_XEN=y\nCONFIG_XEN_DOM0=y\nCONFIG_XEN_BACKEND=y\n"
    "CONFIG_XEN_DEV_EVTCHN=m\nCONFIG_XEN_GNTDEV=m\nCONFIG_XEN_PRIVCMD=m\nCONFIG_XENFS=m\n"
    "CONFIG_XEN_BLKDEV_BACKEND=m\nCONFIG_XEN_NETDEV_BACKEND=m\nCONFIG_HVC_XEN=y\n"
    "CONFIG_XEN_BLKDEV_FRONTEND=m\nCONFIG_XEN_NETDEV_FRONTEND=m\nCONFIG_XEN_SYS_HYPERVISOR=y\n";

TEST(KconfigRoles, Arm64HasOneGuestKindAndADom0WithoutPv) {
    auto v = check_kernel_config(parse_ok(kArm64Config), "arm64");
    EXPECT_EQ(v.arch, "arm64");
    EXPECT_TRUE(v.role("native")->works);
    EXPECT_TRUE(v.role("dom0")->works) << v.role("dom0")->problems.front();
    EXPECT_TRUE(v.role("domU-arm")->works);
    EXPECT_TRUE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->working_roles, (std::vector<std::string>{"domU-arm"}));
    EXPECT_EQ(v.role("domU")->needs_any_role, (std::vector<std::string>{"domU-arm"}));
    EXPECT_TRUE(v.role("driver-domain")->works);
    for (const char* x86 : {"domU-pv", "domU-pvh", "domU-hvm"}) {
        EXPECT_FALSE(v.role(x86)->applies) << x86;
        EXPECT_FALSE(v.role(x86)->works) << x86;
        EXPECT_EQ(v.role(x86)->problems,
                  (std::vector<std::string>{"not a role on arm64 (x86 only)"}));
    }
    // The x86-only entries are not asked for at all: neither XEN_PV nor the ACPI processor.
    for (const auto& e : v.role("dom0")->required) EXPECT_NE(e.symbols.front(), "XEN_PV");
    for (const auto& e : v.role("dom0")->optional)
        EXPECT_NE(e.symbols.front(), "XEN_ACPI_PROCESSOR");
    // Without its console the Arm guest cannot work, and domU with it.
    v = check_kernel_config(parse_ok(without(kArm64Config, "HVC_XEN")), "arm64");
    EXPECT_FALSE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->problems, (std::vector<std::string>{"domU-arm does not work"}));
}

TEST(KconfigRoles, MissingDom0SymbolBreaksOnlyDom0) {
    auto v = check_kernel_config(parse_ok(without(all_required_config(), "XEN_DOM0")), "t");
    EXPECT_FALSE(v.role("dom0")->works);
    ASSERT_EQ(v.role("dom0")->problems.size(), 1u);
    EXPECT_EQ(v.role("dom0")->problems[0].rfind("CONFIG_XEN_DOM0 missing", 0), 0u);
    EXPECT_TRUE(v.role("domU")->works);
    EXPECT_TRUE(v.role("driver-domain")->works);
}

TEST(KconfigRoles, DomUNeedsOneGuestTypeAndDriverDomainNeedsDomU) {
    std::string text = all_required_config();
    for (auto s : {"XEN_PV", "XEN_PVH", "XEN_PVHVM_GUEST"}) text = without(text, s);
    auto v = check_kernel_config(parse_ok(text), "t");
    EXPECT_FALSE(v.role("domU-pv")->works);
    EXPECT_FALSE(v.role("domU-pvh")->works);
    EXPECT_FALSE(v.role("domU-hvm")->works);
    EXPECT_FALSE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->problems,
              (std::vector<std::string>{"none of domU-pv, domU-pvh, domU-hvm works"}));
    EXPECT_FALSE(v.role("driver-domain")->works);
    EXPECT_EQ(v.role("driver-domain")->problems, (std::vector<std::string>{"domU does not work"}));
    // PVH alone is enough for domU.
    v = check_kernel_config(parse_ok(text + "CONFIG_XEN_PVH=y\n"), "t");
    EXPECT_TRUE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->working_roles, (std::vector<std::string>{"domU-pvh"}));
}

TEST(KconfigRoles, AlternativesAnyOneSuffices) {
    std::string text = all_required_config();
    for (auto s : {"XEN_NETDEV_BACKEND", "XEN_BLKDEV_BACKEND", "XEN_SCSI_BACKEND"})
        text = without(text, s);
    auto v = check_kernel_config(parse_ok(text + "CONFIG_XEN_SCSI_BACKEND=m\n"), "t");
    const auto& dd = *v.role("driver-domain");
    EXPECT_TRUE(dd.works);
    bool seen = false;
    for (const auto& e : dd.required)
        if (e.symbols.size() == 3) {
            seen = true;
            EXPECT_EQ(e.satisfied_by, "XEN_SCSI_BACKEND");
            EXPECT_EQ(e.state, KconfigState::module);
        }
    EXPECT_TRUE(seen);
    v = check_kernel_config(parse_ok(text), "t");
    EXPECT_FALSE(v.role("driver-domain")->works);
}

TEST(KconfigRoles, NativeOnlyNeedsBasics) {
    auto v = check_kernel_config(
        parse_ok("CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_SYSFS=y\nCONFIG_PROC_FS=y\n"
                 "CONFIG_DEVTMPFS=y\n"),
        "t");
    EXPECT_TRUE(v.role("native")->works);
    for (const auto& r : v.roles) {
        if (r.name != "native") {
            EXPECT_FALSE(r.works) << r.name;
        }
    }
}
}  // namespace
}  // namespace xa
