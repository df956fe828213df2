// `xen-autoload load` without --dry-run on Debian's real module tree, with the insertion
// shim (tests/shim/insert_shim.cpp) answering finit_module/init_module: the real libkmod
// path (dependencies, modprobe.d, the parallel loader) and the tool's exit codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../unit/test_util.h"

namespace xa {
namespace {

std::string tree_root() { return std::string(XA_MODULE_TREE) + "/root"; }

class LoadWithShim : public ::testing::Test {
  protected:
    test::CliResult load(const std::string& errnos) {
        return test::run_cli({"load", "--json", "--root", tree_root(), "--role", "dom0",
                              "--vendor-dir", std::string(XA_SOURCE_DIR) + "/config", "--deny-file",
                              tmp.path() + "/deny.conf", "--jobs", "2"},
                             shim_env(errnos));
    }
    // The environment of a load through the insertion shim: XA_SHIM_ERRNO as given, the log of
    // insertions in tmp, and sanitizer builds told that the shim comes before their runtime.
    std::vector<std::pair<std::string, std::string>> shim_env(const std::string& errnos) const {
        const std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
        return {{"LD_PRELOAD", XA_INSERT_SHIM},
                {"XA_SHIM_ERRNO", errnos},
                {"XA_SHIM_LOG", tmp.path() + "/inserted"},
                {"ASAN_OPTIONS", asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0"}};
    }
    std::string inserted() const { return test::read_file(tmp.path() + "/inserted"); }
    static std::string result_of(const nlohmann::json& j, const std::string& requested) {
        for (const auto& m : j["modules"])
            if (m["requested"] == requested) return m["result"];
        return "(not in the report)";
    }
    test::TempDir tmp;
};

TEST_F(LoadWithShim, EveryModuleInsertedThroughLibkmod) {
    const auto r = load("");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ok"], true);
    for (const char* m : {"xen-evtchn", "xen-gntdev", "xen-blkback", "xen-netback"})
        EXPECT_EQ(result_of(j, m), "loaded") << m << "\n" << r.out;
    const std::string log = inserted();
    EXPECT_NE(log.find("xen_netback\n"), std::string::npos) << log;
    EXPECT_NE(log.find("xen_blkback\n"), std::string::npos) << log;
    EXPECT_EQ(r.err.find("only with --dry-run"), std::string::npos) << r.err;
}

// EEXIST: udev or a parallel worker got there first: the module counts as present.
TEST_F(LoadWithShim, AlreadyInTheKernelCountsAsPresent) {
    const auto r = load("xen_netback=EEXIST,xen_blkback=EEXIST");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ok"], true);
    EXPECT_NE(result_of(j, "xen-netback"), "failed") << r.out;
    EXPECT_EQ(r.err.find("EEXIST"), std::string::npos) << r.err;
}

// ENODEV from an optional module: the explained message, a warning, exit 0.
TEST_F(LoadWithShim, NoDeviceIsExplained) {
    const auto r = load("xen_pciback=ENODEV");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("xen-pciback: No such device (ENODEV): not the initial domain"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(result_of(nlohmann::json::parse(r.out), "xen-pciback"), "failed");
}

// EPERM on a required module (no CAP_SYS_MODULE, lockdown, signature policy): exit 3.
TEST_F(LoadWithShim, NotPermittedExitsThree) {
    const auto r = load("xen_netback=EPERM");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("xen-netback: Operation not permitted (EPERM)"), std::string::npos)
        << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["ok"], false);
}

// Any other failure of a required module: exit 1.
TEST_F(LoadWithShim, OtherFailureOfARequiredModuleExitsOne) {
    const auto r = load("xen_blkback=EINVAL");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("xen-blkback: Invalid argument (EINVAL)"), std::string::npos) << r.err;
}

// pciback-hide through a real `load`: xen-pciback becomes required and is inserted through
// libkmod, then the matched device's files in the root's fake sysfs are written (the shim
// creates no sysfs entries: the pciback driver directory is made beforehand).
TEST_F(LoadWithShim, PcibackHideBindsTheDeviceAfterInsertingXenPciback) {
    const std::string root = tree_root();
    struct Cleanup {
        std::string root;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(root + "/sys/bus/pci", ec);
            std::filesystem::remove_all(root + "/sys/devices/pci0000:00", ec);
            std::filesystem::remove(root + "/sys/bus", ec);  // only when empty
            std::filesystem::remove(root + "/sys/devices", ec);
        }
    } cleanup{root};
    auto put = [&](const std::string& rel, const std::string& text) {
        std::filesystem::create_directories(std::filesystem::path(root + "/" + rel).parent_path());
        std::ofstream(root + "/" + rel) << text;
    };
    const std::string dev = "sys/devices/pci0000:00/0000:00:04.0";
    put(dev + "/vendor", "0x8086\n");
    put(dev + "/device", "0x100e\n");
    put(dev + "/class", "0x020000\n");
    put(dev + "/driver_override", "(null)\n");
    for (const char* f :
         {"sys/bus/pci/drivers/e1000/unbind", "sys/bus/pci/drivers/pciback/new_slot",
          "sys/bus/pci/drivers/pciback/bind"})
        put(f, "");
    std::filesystem::create_directories(root + "/sys/bus/pci/devices");
    ASSERT_EQ(::symlink("../../../devices/pci0000:00/0000:00:04.0",
                        (root + "/sys/bus/pci/devices/0000:00:04.0").c_str()),
              0);
    ASSERT_EQ(::symlink("../../../bus/pci/drivers/e1000", (root + "/" + dev + "/driver").c_str()),
              0);
    const std::string vendor = tmp.path() + "/vendor";
    std::filesystem::create_directories(vendor);
    std::filesystem::copy_file(std::string(XA_SOURCE_DIR) + "/config/default.conf",
                               vendor + "/default.conf");
    std::ofstream(vendor + "/hide.conf") << "pciback-hide 8086:100e\n";

    const auto r =
        test::run_cli({"load", "--json", "--root", root, "--role", "dom0", "--vendor-dir", vendor,
                       "--deny-file", tmp.path() + "/deny.conf", "--jobs", "2"},
                      shim_env(""));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(result_of(j, "xen-pciback"), "loaded") << r.out;
    EXPECT_NE(inserted().find("xen_pciback\n"), std::string::npos) << inserted();
    ASSERT_EQ(j["pci_hide"].size(), 1U) << r.out;
    EXPECT_EQ(j["pci_hide"][0]["result"], "hidden");
    EXPECT_EQ(j["pci_hide"][0]["driver_before"], "e1000");
    EXPECT_EQ(test::read_file(root + "/" + dev + "/driver_override"), "pciback");
    EXPECT_EQ(test::read_file(root + "/sys/bus/pci/drivers/e1000/unbind"), "0000:00:04.0");
    EXPECT_EQ(test::read_file(root + "/sys/bus/pci/drivers/pciback/new_slot"), "0000:00:04.0");
    EXPECT_EQ(test::read_file(root + "/sys/bus/pci/drivers/pciback/bind"), "0000:00:04.0");
    EXPECT_NE(r.err.find("0000:00:04.0: hidden: bound to pciback, was e1000"), std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace xa
