// `xen-autoload load` without --dry-run on Debian's real module tree, with the insertion
// shim (tests/shim/insert_shim.cpp) answering finit_module/init_module: the real libkmod
// path (dependencies, modprobe.d, the parallel loader) and the tool's exit codes.
#include <gtest/gtest.h>

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
        const std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
        return test::run_cli(
            {"load", "--json", "--root", tree_root(), "--role", "dom0", "--vendor-dir",
             std::string(XA_SOURCE_DIR) + "/config", "--deny-file", tmp.path() + "/deny.conf",
             "--jobs", "2"},
            {{"LD_PRELOAD", XA_INSERT_SHIM},
             {"XA_SHIM_ERRNO", errnos},
             {"XA_SHIM_LOG", tmp.path() + "/inserted"},
             // The shim comes before a sanitizer runtime in the list.
             {"ASAN_OPTIONS", asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0"}});
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

}  // namespace
}  // namespace xa
