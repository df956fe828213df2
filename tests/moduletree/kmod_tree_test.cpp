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

// A test root with its own copy of the tree (module_tree_util.h) and the PV dom0 policy.
// Files of the copy are hard links into the shared tree: change one only by removing it
// first.
class KmodTreeFault : public ::testing::Test {
  protected:
    void SetUp() override {
        test::link_module_tree(tree_root() + "/lib/modules/" + k_, dir_ + "/");
        t_.write("proc/sys/kernel/osrelease", k_ + "\n");
        t_.write("etc/xen-autoload/t.conf", "require dom0 xen-netback xen-blkback\n");
    }
    // Replaces the tree's file REL (below lib/modules/KVER) with DATA.
    void replace(const std::string& rel, const std::string& data) const {
        std::filesystem::remove(dir_ + "/" + rel);
        t_.write("lib/modules/" + k_ + "/" + rel, data);
    }
    test::CliResult cli(const std::string& command, bool json = false) const {
        std::vector<std::string> args{command, "--root",       t_.path(), "--role",
                                      "dom0",  "--vendor-dir", t_.path()};
        if (json) args.emplace_back("--json");
        if (command == "load") args.emplace_back("--dry-run");
        return test::run_cli(args);
    }

    test::TempDir t_;
    std::string k_ = kver();
    std::string dir_ = t_.path() + "/lib/modules/" + k_;
};

// modules.dep lists xen-netback.ko but the file is gone: not loadable, and every output
// names the file (libkmod gives the path without looking at it).
TEST_F(KmodTreeFault, ModuleFileListedButGoneIsMissingWithItsPath) {
    const std::string ko = "kernel/drivers/net/xen-netback/xen-netback.ko";
    ASSERT_TRUE(std::filesystem::remove(dir_ + "/" + ko));
    const std::string cause = "module file missing: " + dir_ + "/" + ko +
                              " (listed in modules.dep; reinstall the kernel package or run "
                              "depmod)";
    const KmodIndex ix(SysRoot(t_.path()), k_);
    EXPECT_EQ(ix.state("xen_netback"), ModuleState::missing);
    EXPECT_EQ(ix.missing_cause("xen_netback"), cause);
    EXPECT_EQ(ix.state("xen_blkback"), ModuleState::loadable);
    EXPECT_EQ(ix.missing_cause("xen_blkback"), "");

    auto r = cli("status");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("MISSING  xen-netback (xen_netback)  [missing] " + cause + "\n"),
              std::string::npos)
        << r.out;
    r = cli("status", true);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["modules"][0]["state"], "missing");
    EXPECT_EQ(j["modules"][0]["reason"], cause);
    r = cli("plan", true);
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["modules"][0]["action"], "skip");
    EXPECT_EQ(j["modules"][0]["reason"], cause);
    EXPECT_EQ(j["modules"][1]["action"], "load");
    r = cli("load");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.find("would load xen_netback"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("error: xen-netback: missing, " + cause), std::string::npos) << r.err;
}

// A corrupt modules.dep.bin: libkmod refuses the indexes (and does not fall back to the text
// modules.dep). One plan-wide warning names the file and depmod; each module points at it.
TEST_F(KmodTreeFault, CorruptDepIndexIsOneWarningNamingFileAndDepmod) {
    replace("modules.dep.bin", std::string(3000, '\x5a'));
    const std::string file = dir_ + "/modules.dep.bin";
    const std::string warning =
        file + ": not a usable module index (corrupt?): run 'depmod " + k_ + "'";
    const KmodIndex ix(SysRoot(t_.path()), k_);
    EXPECT_TRUE(ix.tree_present());
    ASSERT_TRUE(ix.index_problem().has_value());
    EXPECT_EQ(*ix.index_problem(), warning);
    EXPECT_EQ(ix.missing_cause("xen_netback"), "cannot be looked up: " + file + " is unusable");

    auto r = cli("status", true);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["warnings"], nlohmann::json::array({warning}));
    for (const auto& m : j["modules"]) {
        EXPECT_EQ(m["state"], "missing");
        EXPECT_EQ(m["reason"], "cannot be looked up: " + file + " is unusable");
    }
    r = cli("status");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("warning: " + warning + "\n"), std::string::npos) << r.out;
    r = cli("plan", true);
    EXPECT_EQ(nlohmann::json::parse(r.out)["warnings"], nlohmann::json::array({warning}));
}

// An index that is absent while modules.dep is there (depmod interrupted): named too. The
// optional modules.builtin.alias.bin may be absent without a warning.
TEST_F(KmodTreeFault, AbsentAliasIndexIsNamedAndOptionalOneIsNot) {
    std::filesystem::remove(dir_ + "/modules.builtin.alias.bin");
    EXPECT_FALSE(KmodIndex(SysRoot(t_.path()), k_).index_problem().has_value());
    std::filesystem::remove(dir_ + "/modules.alias.bin");
    const KmodIndex ix(SysRoot(t_.path()), k_);
    ASSERT_TRUE(ix.index_problem().has_value());
    EXPECT_EQ(*ix.index_problem(), dir_ +
                                       "/modules.alias.bin: missing, though modules.dep is "
                                       "there: run 'depmod " +
                                       k_ + "'");
}

// No tree at all keeps its own warning and no index warning.
TEST_F(KmodTreeFault, NoModulesDepKeepsTheNoTreeWarningOnly) {
    std::filesystem::remove(dir_ + "/modules.dep");
    std::filesystem::remove(dir_ + "/modules.dep.bin");
    const KmodIndex ix(SysRoot(t_.path()), k_);
    EXPECT_FALSE(ix.tree_present());
    EXPECT_FALSE(ix.index_problem().has_value());
    const auto r = cli("status", true);
    EXPECT_EQ(nlohmann::json::parse(r.out)["warnings"],
              nlohmann::json::array({"no module tree at " + dir_ + " (no modules.dep)"}));
}

}  // namespace
}  // namespace xa
