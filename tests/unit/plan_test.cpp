#include "plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_index.h"
#include "module_arch.h"
#include "report.h"

namespace xa {
namespace {

Policy policy_of(const std::string& text) {
    Policy p;
    parse_policy(text, "t.conf", p);
    p.files.push_back("t.conf");
    return p;
}

test::FakeIndex debian_like() {
    test::FakeIndex ix;
    for (const char* m : {"xen_evtchn", "xen_gntdev", "xen_privcmd", "xenfs", "xen_netback",
                          "xen_blkback", "xen_pciback"})
        ix.states[m] = ModuleState::loadable;
    ix.states["xenbus_probe_frontend"] = ModuleState::builtin;
    ix.states["xen_gntdev"] = ModuleState::loaded;
    ix.deps["xenfs"] = {"xen_privcmd"};
    ix.aliases["xen-backend:vif"] = "xen_netback";
    return ix;
}

const PlanEntry& entry(const Plan& p, const std::string& requested) {
    for (const PlanEntry& e : p.modules)
        if (e.requested == requested) return e;
    throw std::runtime_error("no entry " + requested);
}

TEST(Plan, StatesActionsAndReasons) {
    const auto ix = debian_like();
    const Plan p = make_plan(
        Role::dom0,
        policy_of("require dom0 xen-evtchn xen-gntdev xenfs xenbus_probe_frontend xen-missing\n"
                  "optional dom0 xen-pciback xen-other\n"),
        ix);
    EXPECT_EQ(p.kernel, "6.1.0-56-amd64");
    EXPECT_EQ(entry(p, "xen-evtchn").action, Action::load);
    EXPECT_EQ(entry(p, "xen-evtchn").name, "xen_evtchn");
    EXPECT_EQ(entry(p, "xen-gntdev").state, ModuleState::loaded);
    EXPECT_EQ(entry(p, "xen-gntdev").action, Action::skip);
    EXPECT_EQ(entry(p, "xenfs").deps, (std::vector<std::string>{"xen_privcmd"}));
    EXPECT_EQ(entry(p, "xenbus_probe_frontend").state, ModuleState::builtin);
    EXPECT_EQ(entry(p, "xen-missing").state, ModuleState::missing);
    EXPECT_TRUE(entry(p, "xen-missing").failure);
    EXPECT_FALSE(entry(p, "xen-other").failure);  // optional: a warning
    EXPECT_TRUE(entry(p, "xen-other").warn);
    EXPECT_TRUE(entry(p, "xen-pciback").optional);
}

// A module this architecture cannot build (module_arch.h): missing as an optional one is
// information, not a warning, where its Kconfig rules it out (the shipped policy's
// xen-acpi-processor in an arm64 dom0); on its own architecture, and when required, the
// absence stays a warning and a failure. Run on the x86 build and, in stage arm64, on the
// arm64 build under qemu-user: each asserts its own side.
TEST(Plan, ModuleOfAnotherArchitecture) {
    const auto ix = debian_like();  // no xen_acpi_processor in the tree
    const bool x86 = build_arch_family() == "x86";
    EXPECT_EQ(module_only_on("xen_acpi_processor"), std::optional<std::string_view>("x86"));
    EXPECT_EQ(module_only_on("xen_netback"), std::nullopt);

    Plan p = make_plan(Role::dom0, policy_of("optional dom0 xen-acpi-processor xen-other\n"), ix);
    const PlanEntry& acpi = entry(p, "xen-acpi-processor");
    EXPECT_EQ(acpi.state, ModuleState::missing);
    EXPECT_FALSE(acpi.failure);
    EXPECT_EQ(acpi.warn, x86);
    EXPECT_EQ(acpi.reason.ends_with(" (built for x86 only)"), !x86) << acpi.reason;
    EXPECT_TRUE(entry(p, "xen-other").warn);  // unknown to the table: a warning everywhere

    p = make_plan(Role::dom0, policy_of("require dom0 xen-acpi-processor\n"), ix);
    EXPECT_TRUE(entry(p, "xen-acpi-processor").failure);
    EXPECT_TRUE(entry(p, "xen-acpi-processor").warn);
}

// A module the index knows why it is missing (its file gone, an unusable index): that cause
// is the reason, in plan and status output alike, instead of "not in TREE".
TEST(Plan, MissingCauseFromTheIndexIsTheReason) {
    auto ix = debian_like();
    ix.states["xen_netback"] = ModuleState::missing;  // listed, file gone
    const std::string gone = "module file missing: /lib/modules/x/xen-netback.ko";
    ix.causes["xen_netback"] = gone;
    ix.causes["xen_blkback"] = "cannot be looked up: modules.dep.bin is unusable";
    ix.states.erase("xen_blkback");  // resolves to nothing
    const Plan p = make_plan(Role::dom0,
                             policy_of("require dom0 xen-backend:vif xen-blkback xen-other\n"), ix);
    EXPECT_EQ(entry(p, "xen-backend:vif").state, ModuleState::missing);
    EXPECT_EQ(entry(p, "xen-backend:vif").action, Action::skip);
    EXPECT_TRUE(entry(p, "xen-backend:vif").failure);
    EXPECT_EQ(entry(p, "xen-backend:vif").reason, "alias of xen_netback; " + gone);
    EXPECT_EQ(entry(p, "xen-blkback").reason, "cannot be looked up: modules.dep.bin is unusable");
    EXPECT_TRUE(entry(p, "xen-blkback").failure);
    EXPECT_EQ(entry(p, "xen-other").reason, "not in /lib/modules/6.1.0-56-amd64");
    EXPECT_FALSE(status_complete(p));
    EXPECT_NE(status_text(p).find("MISSING  xen-backend:vif (xen_netback)  [missing] alias of "
                                  "xen_netback; " +
                                  gone + "\n"),
              std::string::npos)
        << status_text(p);
    EXPECT_EQ(status_json(p)["modules"][0]["reason"], "alias of xen_netback; " + gone);
    EXPECT_EQ(plan_json(p)["modules"][0]["reason"], "alias of xen_netback; " + gone);
}

// pciback-hide needs xen-pciback in dom0: an optional request becomes required (by the
// legacy name too), a missing one is added; other roles are left as they are.
TEST(Plan, PcibackHideRequiresXenPciback) {
    const auto ix = debian_like();
    Plan p = make_plan(
        Role::dom0, policy_of("optional dom0 xen-pciback xen-other\npciback-hide 00:04.0\n"), ix);
    EXPECT_FALSE(entry(p, "xen-pciback").optional);
    EXPECT_EQ(entry(p, "xen-pciback").action, Action::load);
    EXPECT_EQ(entry(p, "xen-pciback").reason, "required by pciback-hide (t.conf:2)");
    EXPECT_TRUE(entry(p, "xen-other").optional);

    p = make_plan(Role::dom0, policy_of("optional dom0 pciback\npciback-hide 8086:100e\n"), ix);
    ASSERT_EQ(p.modules.size(), 1U);
    EXPECT_EQ(entry(p, "pciback").name, "xen_pciback");
    EXPECT_FALSE(entry(p, "pciback").optional);

    p = make_plan(Role::dom0, policy_of("require dom0 xen-evtchn\npciback-hide class=0x0200\n"),
                  ix);
    ASSERT_EQ(p.modules.size(), 2U);
    EXPECT_EQ(p.modules[1].requested, "xen-pciback");
    EXPECT_FALSE(p.modules[1].optional);
    EXPECT_EQ(p.modules[1].origin, "t.conf:2");
    EXPECT_EQ(p.modules[1].reason, "required by pciback-hide (t.conf:2)");

    // Missing from the tree: a failure like any required module.
    auto no_pciback = debian_like();
    no_pciback.states.erase("xen_pciback");
    p = make_plan(Role::dom0, policy_of("pciback-hide 00:04.0\n"), no_pciback);
    EXPECT_TRUE(entry(p, "xen-pciback").failure);

    for (const Role r : {Role::domU, Role::driver_domain})
        EXPECT_TRUE(make_plan(r, policy_of("pciback-hide 00:04.0\n"), ix).modules.empty());

    // Denied and hidden: the contradiction is a plan warning (the deny wins).
    p = make_plan(Role::dom0, policy_of("deny pciback\npciback-hide 00:04.0\n"), ix);
    EXPECT_EQ(entry(p, "xen-pciback").state, ModuleState::denied);
    EXPECT_EQ(p.warnings, (std::vector<std::string>{
                              "pciback-hide (t.conf:2): xen-pciback is denied by t.conf:1: no "
                              "device can be hidden"}));
}

// The admin added "deny xen-netback" but did not run update-initramfs -u: the initramfs's
// older policy loaded it. The plan says so, status is not complete until it is gone.
TEST(Plan, DeniedButLoadedIsReportedAndStatusIsIncomplete) {
    auto ix = debian_like();
    const Policy policy = policy_of("require dom0 xen-netback netbk\ndeny xen-netback\n");
    Plan p = make_plan(Role::dom0, policy, ix);
    EXPECT_FALSE(entry(p, "xen-netback").loaded_although_denied);
    EXPECT_TRUE(status_complete(p));

    ix.states["xen_netback"] = ModuleState::loaded;
    p = make_plan(Role::dom0, policy, ix);
    for (const char* requested : {"xen-netback", "netbk"}) {
        const PlanEntry& e = entry(p, requested);
        EXPECT_EQ(e.state, ModuleState::denied) << requested;
        EXPECT_TRUE(e.loaded_although_denied) << requested;
        EXPECT_EQ(e.name, "xen_netback") << requested;
        EXPECT_NE(e.reason.find("update-initramfs -u"), std::string::npos) << e.reason;
    }
    EXPECT_FALSE(status_complete(p));
    EXPECT_NE(status_text(p).find("LOADED   xen-netback (xen_netback)  [denied]"),
              std::string::npos)
        << status_text(p);
    EXPECT_EQ(status_json(p)["modules"][0]["present"], true);
}

TEST(Plan, DenyWinsOverRequireByRequestedOrResolvedName) {
    const auto ix = debian_like();
    const Plan p = make_plan(
        Role::dom0, policy_of("require dom0 xen-netback xen-backend:vif\ndeny xen_netback\n"), ix);
    EXPECT_EQ(p.modules[0].state, ModuleState::denied);
    EXPECT_EQ(p.modules[0].reason, "denied by t.conf:2");
    EXPECT_EQ(p.modules[1].state, ModuleState::denied);  // via alias
    EXPECT_EQ(p.modules[1].action, Action::skip);
}

TEST(Plan, LegacyNamesResolveThroughTheMap) {
    const auto ix = debian_like();
    const Plan p = make_plan(Role::dom0, policy_of("require dom0 netbk evtchn usbbk\n"), ix);
    EXPECT_EQ(entry(p, "netbk").name, "xen_netback");
    EXPECT_EQ(entry(p, "netbk").action, Action::load);
    EXPECT_NE(entry(p, "netbk").reason.find("legacy name for xen-netback"), std::string::npos);
    EXPECT_EQ(entry(p, "evtchn").name, "xen_evtchn");
    EXPECT_EQ(entry(p, "usbbk").state, ModuleState::missing);
    EXPECT_FALSE(entry(p, "usbbk").failure);  // a warning, never a failure
    EXPECT_TRUE(entry(p, "usbbk").warn);
}

TEST(Plan, DuplicatesLoadOnceAndBlacklistSkips) {
    auto ix = debian_like();
    ix.blacklist.insert("xen_blkback");
    const Plan p =
        make_plan(Role::dom0, policy_of("require dom0 xen-netback netbk xen-blkback\n"), ix);
    EXPECT_EQ(p.modules[0].action, Action::load);
    EXPECT_EQ(p.modules[1].action, Action::skip);
    EXPECT_EQ(p.modules[2].state, ModuleState::blacklisted);
    EXPECT_EQ(p.modules[2].action, Action::skip);
}

TEST(Plan, RoleNoneAndPlainDomUPlanNothing) {
    const auto ix = debian_like();
    const Policy pol = policy_of("require dom0 xen-evtchn\nrequire driver-domain xen-netback\n");
    EXPECT_TRUE(make_plan(Role::none, pol, ix).modules.empty());
    EXPECT_TRUE(make_plan(Role::domU, pol, ix).modules.empty());
    EXPECT_EQ(make_plan(Role::driver_domain, pol, ix).modules.size(), 1U);
}

TEST(Plan, NoPolicyFilesIsAWarning) {
    const auto ix = debian_like();
    const Plan p = make_plan(Role::dom0, Policy{}, ix);
    ASSERT_EQ(p.warnings.size(), 1U);
    EXPECT_NE(p.warnings[0].find("no policy file"), std::string::npos);
}

// deny resolves like require/optional: a legacy name (through the legacy map) and an alias
// deny the module they name.
TEST(Plan, DenyByLegacyNameAndAlias) {
    const auto ix = debian_like();
    for (const char* rule : {"deny netbk\n", "deny xen-backend:vif\n"}) {
        const Plan p =
            make_plan(Role::dom0,
                      policy_of(std::string("require dom0 xen-netback xen-blkback\n") + rule), ix);
        EXPECT_EQ(entry(p, "xen-netback").state, ModuleState::denied) << rule;
        EXPECT_EQ(entry(p, "xen-netback").action, Action::skip) << rule;
        EXPECT_EQ(entry(p, "xen-netback").reason, "denied by t.conf:2") << rule;
        EXPECT_EQ(entry(p, "xen-blkback").action, Action::load) << rule;
    }
}

}  // namespace
}  // namespace xa
