// Tests on Debian's real 6.1 module tree (tests/setup-module-tree.sh, run as the CTest
// fixture "module_tree"): real libkmod resolution, builtins, dependencies, blacklist, and
// the one real insertion that the running kernel refuses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../unit/module_tree_util.h"
#include "../unit/test_util.h"
#include "engine.h"
#include "loader.h"
#include "module_index.h"
#include "plan.h"
#include "policy.h"
#include "sysroot.h"

namespace xa {
namespace {

std::string tree_root() { return std::string(XA_MODULE_TREE) + "/root"; }

std::string kver() {
    std::ifstream f(tree_root() + "/proc/sys/kernel/osrelease");
    std::string k;
    std::getline(f, k);
    return k;
}

TEST(KmodTree, TreeIsThere) {
    ASSERT_FALSE(kver().empty()) << "run tests/setup-module-tree.sh (CTest fixture module_tree)";
    const KmodIndex ix(SysRoot(tree_root()), kver());
    EXPECT_TRUE(ix.tree_present());
}

TEST(KmodTree, ResolvesNamesAliasesAndBuiltins) {
    const KmodIndex ix(SysRoot(tree_root()), kver());
    EXPECT_EQ(ix.resolve("xen-netback"), (std::vector<std::string>{"xen_netback"}));
    EXPECT_EQ(ix.resolve("xen-backend:vif"), (std::vector<std::string>{"xen_netback"}));
    EXPECT_EQ(ix.resolve("xen-backend:vbd"), (std::vector<std::string>{"xen_blkback"}));
    EXPECT_EQ(ix.resolve("fs-xenfs"), (std::vector<std::string>{"xenfs"}));
    EXPECT_TRUE(ix.resolve("netbk").empty());  // the legacy name: only through our map
    EXPECT_EQ(ix.state("xen_netback"), ModuleState::loadable);
    EXPECT_EQ(ix.state("xenbus_probe_frontend"), ModuleState::builtin);
    EXPECT_EQ(ix.state("xen_no_such_module"), ModuleState::missing);
    EXPECT_EQ(ix.dependencies("xenfs"), (std::vector<std::string>{"xen_privcmd"}));
}

TEST(KmodTree, Dom0PlanWithShippedPolicy) {
    const SysRoot root(tree_root());
    Policy pol = load_policy(root, {{"/etc/xen-autoload"}, std::string(XA_SOURCE_DIR) + "/config"});
    parse_policy("optional dom0 netbk usbbk xen-backend:vscsi\n", "extra.conf", pol);
    const KmodIndex ix(root, kver());
    const Plan p = make_plan(Role::dom0, pol, ix);
    ASSERT_EQ(p.modules.size(), 13U);
    for (std::size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(p.modules[i].action, Action::load) << p.modules[i].requested;
        EXPECT_EQ(p.modules[i].state, ModuleState::loadable) << p.modules[i].requested;
    }
    EXPECT_EQ(p.modules[4].name, "xenfs");
    EXPECT_EQ(p.modules[4].deps, (std::vector<std::string>{"xen_privcmd"}));
    EXPECT_EQ(p.modules[10].name, "xen_netback");  // netbk: duplicate of xen-netback
    EXPECT_EQ(p.modules[10].action, Action::skip);
    EXPECT_NE(p.modules[10].reason.find("legacy name for xen-netback"), std::string::npos);
    EXPECT_EQ(p.modules[11].state, ModuleState::missing);  // usbbk
    EXPECT_EQ(p.modules[12].name, "xen_scsiback");         // alias, already planned
}

TEST(KmodTree, LoadedStateAndBlacklistComeFromTheRoot) {
    test::TempDir t;
    const std::string k = kver();
    test::link_module_tree(tree_root() + "/lib/modules/" + k, t.path() + "/lib/modules/" + k);
    t.write("proc/sys/kernel/osrelease", k + "\n");
    t.write("proc/modules", "xen_evtchn 20480 0 - Live 0x0\n");
    t.write("sys/module/xen_gntdev/initstate", "live\n");
    t.write("etc/modprobe.d/xen.conf", "blacklist xen_netback\n");
    // The root's kernel command line, not the host's (libkmod reads only the host's).
    t.write("proc/cmdline", "ro quiet modprobe.blacklist=xen_blkback,xen-scsiback\n");
    const KmodIndex ix(SysRoot(t.path()), k);
    EXPECT_TRUE(ix.blacklisted("xen_blkback"));
    EXPECT_TRUE(ix.blacklisted("xen_scsiback"));
    EXPECT_EQ(ix.state("xen_evtchn"), ModuleState::loaded);
    EXPECT_EQ(ix.state("xen_gntdev"), ModuleState::loaded);
    EXPECT_TRUE(ix.blacklisted("xen_netback"));
    Policy pol;
    parse_policy("require dom0 xen-netback xen-evtchn\n", "t.conf", pol);
    const Plan p = make_plan(Role::dom0, pol, ix);
    EXPECT_EQ(p.modules[0].state, ModuleState::blacklisted);
    EXPECT_EQ(p.modules[1].state, ModuleState::loaded);
}

// The one real insertion: libkmod's probe path on the real module tree, into this machine's
// kernel, which must refuse. Never on a Xen dom0, where xen-evtchn could really load.
TEST(KmodTree, RealInsertRefusedByTheKernelNamesModuleAndErrno) {
    const Platform host = detect(SysRoot());
    if (host.hypervisor == Hypervisor::xen && host.role == Role::dom0)
        GTEST_SKIP() << "running on a Xen dom0: a real insert could succeed";
    // On native and KVM hosts xen-evtchn refuses (ENODEV on a matching kernel; ENOEXEC,
    // EPERM or ENOSYS elsewhere). In a Xen domU xen-pciback refuses (not the initial domain).
    const std::string module = host.hypervisor == Hypervisor::xen ? "xen-pciback" : "xen-evtchn";
    const SysRoot root(tree_root());
    Policy pol;
    parse_policy("require dom0 " + module + "\n", "t.conf", pol);
    pol.files.push_back("t.conf");
    const KmodIndex ix(root, kver());
    const Plan plan = make_plan(Role::dom0, pol, ix);
    ASSERT_EQ(plan.modules.at(0).action, Action::load);
    const LoadReport rep = execute_plan(plan, kmod_inserter_factory(root, kver()),
                                        {1, false, std::chrono::seconds(60)});
    ASSERT_EQ(rep.results.size(), 1U);
    const LoadResult& r = rep.results[0];
    EXPECT_EQ(r.status, LoadStatus::failed);
    EXPECT_NE(r.err, 0);
    EXPECT_FALSE(rep.ok());
    const std::string expected_prefix = module + ": " + errno_text(r.err) + ": ";
    EXPECT_EQ(r.message.substr(0, expected_prefix.size()), expected_prefix) << r.message;
    EXPECT_NE(r.message.find("(E"), std::string::npos) << r.message;
    std::printf("real insert of %s: %s\n", module.c_str(), r.message.c_str());
}

TEST(KmodTreeCli, PlanJsonOnTheRealTree) {
    const auto r = test::run_cli({"plan", "--json", "--root", tree_root(), "--role", "dom0",
                                  "--vendor-dir", std::string(XA_SOURCE_DIR) + "/config"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "dom0");
    EXPECT_EQ(j["kernel"], kver());
    ASSERT_EQ(j["modules"].size(), 10U);
    for (const auto& m : j["modules"]) {
        for (const char* k : {"requested", "name", "state", "action", "reason", "optional"})
            EXPECT_TRUE(m.contains(k)) << k;
        EXPECT_EQ(m["state"], "loadable");
        EXPECT_EQ(m["action"], "load");
    }
}

TEST(KmodTreeCli, DryRunLoadUnderRootAndRefusalWithout) {
    const std::string vendor = std::string(XA_SOURCE_DIR) + "/config";
    auto r = test::run_cli(
        {"load", "--dry-run", "--root", tree_root(), "--role", "dom0", "--vendor-dir", vendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("xen-netback: would load xen_netback"), std::string::npos) << r.err;
    r = test::run_cli({"load", "--root", tree_root(), "--role", "dom0", "--vendor-dir", vendor});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("only with --dry-run"), std::string::npos) << r.err;
}

// plan --kernel: the tree of a kernel that is not the running one (an initramfs built for a
// newly installed kernel). Aliases resolve in that tree, and the root's loaded modules
// belong to the running kernel, so none counts as loaded.
TEST(KmodTreeCli, PlanForAnotherKernelUsesItsTreeAndNoLoadedState) {
    test::TempDir t;
    const std::string k = kver();
    test::link_module_tree(tree_root() + "/lib/modules/" + k, t.path() + "/lib/modules/" + k);
    t.write("proc/sys/kernel/osrelease", "6.99.0-running\n");  // no tree of its own
    t.write("proc/modules", "xen_netback 20480 0 - Live 0x0\n");
    t.write("etc/xen-autoload/t.conf", "require dom0 xen-backend:vif\ndeny xen-backend:vbd\n");
    auto r = test::run_cli({"plan", "--json", "--root", t.path(), "--role", "dom0", "--kernel", k,
                            "--vendor-dir", t.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["kernel"], k);
    ASSERT_EQ(j["modules"].size(), 1U) << r.out;
    EXPECT_EQ(j["modules"][0]["name"], "xen_netback");
    EXPECT_EQ(j["modules"][0]["state"], "loadable");  // loaded in the running kernel only
    EXPECT_EQ(j["modules"][0]["action"], "load");
    // Without --kernel: the running release, which has no tree here.
    r = test::run_cli(
        {"plan", "--json", "--root", t.path(), "--role", "dom0", "--vendor-dir", t.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["kernel"], "6.99.0-running");
    // A release without a tree, or not a release at all: usage errors naming the option.
    r = test::run_cli({"plan", "--root", t.path(), "--kernel", "6.99.0-running"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--kernel: no module tree '" + t.path() + "/lib/modules/6.99.0-running'"),
              std::string::npos)
        << r.err;
    r = test::run_cli({"plan", "--root", t.path(), "--kernel", "../../etc"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--kernel: not a kernel release: '../../etc'"), std::string::npos)
        << r.err;
    r = test::run_cli({"status", "--root", t.path(), "--kernel", k});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--kernel: option not taken by this command"), std::string::npos) << r.err;
}

TEST(KmodTreeCli, StatusOnAFreshTreeIsIncomplete) {
    const auto r = test::run_cli({"status", "--json", "--root", tree_root(), "--role", "dom0",
                                  "--vendor-dir", std::string(XA_SOURCE_DIR) + "/config"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["complete"], false);
}

// libkmod runs a modprobe.d "install" command instead of inserting; when it fails, the
// message names the command and its exit status (libkmod's own result is a bare -EINVAL).
// Nothing reaches the kernel: the command replaces the insertion.
TEST(KmodTree, FailedInstallCommandIsNamed) {
    const Platform host = detect(SysRoot());
    if (host.hypervisor == Hypervisor::xen)
        GTEST_SKIP() << "on Xen xen-evtchn may be loaded already (then nothing runs)";
    test::TempDir t;
    const std::string k = kver();
    test::link_module_tree(tree_root() + "/lib/modules/" + k, t.path() + "/lib/modules/" + k);
    t.write("proc/sys/kernel/osrelease", k + "\n");
    t.write("etc/modprobe.d/x.conf", "install xen_evtchn /bin/sh -c 'exit 3'\n");
    const SysRoot root(t.path());
    Policy pol;
    parse_policy("require dom0 xen-evtchn\n", "t.conf", pol);
    pol.files.push_back("t.conf");
    const KmodIndex ix(root, k);
    const Plan plan = make_plan(Role::dom0, pol, ix);
    ASSERT_EQ(plan.modules.at(0).action, Action::load);
    const LoadReport rep =
        execute_plan(plan, kmod_inserter_factory(root, k), {1, false, std::chrono::seconds(60)});
    const LoadResult& r = rep.results.at(0);
    EXPECT_EQ(r.status, LoadStatus::failed);
    EXPECT_EQ(r.message,
              "xen-evtchn: install command '/bin/sh -c 'exit 3'' failed with exit status 3");
}

}  // namespace
}  // namespace xa
