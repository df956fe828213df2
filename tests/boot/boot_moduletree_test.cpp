// The deny list and the udev helper against Debian's real 6.1 module tree with the real
// libkmod: a "blacklist" line in ROOT/run/modprobe.d makes libkmod refuse the module the
// way udev's kmod builtin asks for it (kmod_module_new_from_lookup on the MODALIAS, then
// kmod_module_probe_insert_module with KMOD_PROBE_APPLY_BLACKLIST), by alias and by name.
#include <gtest/gtest.h>
#include <libkmod.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "../unit/module_tree_util.h"
#include "deny_list.h"
#include "loader.h"
#include "module_index.h"
#include "plan.h"
#include "policy.h"
#include "sysroot.h"
#include "udev_helper.h"

namespace xa {
namespace {

// A root holding the real tree (its index files linked in) and its own run/modprobe.d.
class RealTree : public ::testing::Test {
  protected:
    void SetUp() override {
        std::ifstream rel(std::string(XA_MODULE_TREE) + "/root/proc/sys/kernel/osrelease");
        ASSERT_TRUE(rel) << "no module tree at " XA_MODULE_TREE
                            " (the setup-module-tree fixture failed)";
        std::getline(rel, kver_);
        char tmpl[] = "/tmp/xa-boot-tree-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        test::link_module_tree(std::string(XA_MODULE_TREE) + "/root/lib/modules/" + kver_,
                               dir_ + "/lib/modules/" + kver_);
        ASSERT_EQ(
            ::system(("mkdir -p " + dir_ + "/run/modprobe.d " + dir_ + "/proc/sys/kernel " + dir_ +
                      "/sys/module && cp " XA_MODULE_TREE "/root/proc/sys/kernel/osrelease " +
                      dir_ + "/proc/sys/kernel/ && touch " + dir_ + "/proc/modules")
                         .c_str()),
            0);
    }
    void TearDown() override {
        if (!dir_.empty()) (void)std::system(("rm -rf " + dir_).c_str());
    }

    // What udev's kmod builtin would get for ALIAS: 0 (would insert), KMOD_PROBE_APPLY_BLACKLIST
    // (refused), or a negative errno.
    int udev_style_probe(const std::string& alias) {
        const SysRoot root(dir_);
        kmod_ctx* ctx = new_kmod_context(root, kver_);
        kmod_list* list = nullptr;
        int rc = kmod_module_new_from_lookup(ctx, alias.c_str(), &list);
        EXPECT_EQ(rc, 0);
        EXPECT_NE(list, nullptr) << alias << " resolves to nothing in " << kver_;
        int result = -ENOENT;
        kmod_list* it = nullptr;
        kmod_list_foreach(it, list) {
            kmod_module* mod = kmod_module_get_module(it);
            result = kmod_module_probe_insert_module(
                mod, KMOD_PROBE_APPLY_BLACKLIST | KMOD_PROBE_DRY_RUN, nullptr, nullptr, nullptr,
                nullptr);
            kmod_module_unref(mod);
        }
        kmod_module_unref_list(list);
        kmod_unref(ctx);
        return result;
    }

    std::string dir_;
    std::string kver_;
};

// The helper as a dom0 runs it, deciding without inserting.
BackendOptions dom0_dry_run() {
    BackendOptions opts;
    opts.role = Role::dom0;
    opts.dry_run = true;
    return opts;
}

TEST_F(RealTree, DenyListStopsUdevStyleModaliasLoad) {
    EXPECT_EQ(udev_style_probe("xen-backend:vif"), 0)
        << "without a deny list the probe must go ahead";

    Policy policy;
    parse_policy("deny xen-netback\n", "/etc/xen-autoload/local.conf", policy);
    const SysRoot root(dir_);
    const KmodIndex index(root, kver_);
    const std::string text = deny_list_text(policy, &index);
    EXPECT_NE(text.find("blacklist xen_netback"), std::string::npos) << text;
    ASSERT_EQ(write_deny_list(dir_ + "/run/modprobe.d/xen-autoload-deny.conf", text), std::nullopt);

    EXPECT_EQ(udev_style_probe("xen-backend:vif"), KMOD_PROBE_APPLY_BLACKLIST);
    EXPECT_EQ(udev_style_probe("xen-netback"), KMOD_PROBE_APPLY_BLACKLIST);
    // Only what the policy denies: the block backend is untouched.
    EXPECT_EQ(udev_style_probe("xen-backend:vbd"), 0);
}

TEST_F(RealTree, HelperLoadsDeniesAndRefuses) {
    const SysRoot root(dir_);
    const KmodIndex index(root, kver_);
    const auto factory = kmod_inserter_factory(root, kver_);
    const BackendOptions opts = dom0_dry_run();

    Policy allow;
    auto out = handle_backend_request({"xen-backend:vif", "/devices/xen-backend/vif-5-0"}, allow,
                                      index, factory, opts);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::loaded) << out.message;
    EXPECT_EQ(out.module, "xen_netback");
    EXPECT_TRUE(out.ok());
    EXPECT_NE(out.message.find("domain 5's vif device vif-5-0 asks for xen-backend:vif"),
              std::string::npos)
        << out.message;

    Policy deny;
    parse_policy("deny xen-netback\n", "/etc/xen-autoload/local.conf", deny);
    out = handle_backend_request({"xen-backend:vif", "/devices/xen-backend/vif-5-0"}, deny, index,
                                 factory, opts);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::denied) << out.message;
    EXPECT_NE(out.message.find("denied by /etc/xen-autoload/local.conf:1"), std::string::npos)
        << out.message;
    EXPECT_TRUE(out.ok());

    out = handle_backend_request({"xen-backend:vbd", "/devices/xen-backend/vbd-5-51712"}, deny,
                                 index, factory, opts);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::loaded) << out.message;
    EXPECT_EQ(out.module, "xen_blkback");

    out = handle_backend_request({"xen-backend:nosuchtype", ""}, allow, index, factory, opts);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::unresolved) << out.message;
    EXPECT_FALSE(out.ok());

    // A guest's console is served by xenconsoled: no module, and not an error.
    out = handle_backend_request({"xen-backend:console", "/devices/xen-backend/console-1-0"}, allow,
                                 index, factory, opts);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::user_space) << out.message;
    EXPECT_TRUE(out.ok());
    EXPECT_EQ(out.module, "");
}

// deny netbk / deny xen-backend:vif on the real tree: the plan, the deny list and the
// helper all refuse xen_netback (the tree has no "netbk" alias: the legacy map decides).
TEST_F(RealTree, DenyByLegacyNameAndAliasOnTheRealTree) {
    const SysRoot root(dir_);
    const KmodIndex index(root, kver_);
    const auto factory = kmod_inserter_factory(root, kver_);
    const BackendOptions opts = dom0_dry_run();
    for (const char* rule : {"deny netbk\n", "deny xen-backend:vif\n"}) {
        Policy policy;
        parse_policy(std::string("require dom0 xen-netback\n") + rule,
                     "/etc/xen-autoload/local.conf", policy);
        policy.files.emplace_back("/etc/xen-autoload/local.conf");
        const Plan plan = make_plan(Role::dom0, policy, index);
        ASSERT_EQ(plan.modules.size(), 1U);
        EXPECT_EQ(plan.modules[0].state, ModuleState::denied) << rule;
        EXPECT_EQ(plan.modules[0].action, Action::skip) << rule;
        EXPECT_NE(deny_list_text(policy, &index).find("blacklist xen_netback "), std::string::npos)
            << rule;
        const auto out = handle_backend_request({"xen-backend:vif", "/devices/xen-backend/vif-5-0"},
                                                policy, index, factory, opts);
        EXPECT_EQ(out.kind, BackendOutcome::Kind::denied) << rule << out.message;
    }
    BackendOptions domu = opts;
    domu.role = Role::domU;
    const auto out = handle_backend_request({"xen-backend:vif", "/devices/xen-backend/vif-5-0"},
                                            Policy{}, index, factory, domu);
    EXPECT_EQ(out.kind, BackendOutcome::Kind::not_for_role) << out.message;
}

}  // namespace
}  // namespace xa
