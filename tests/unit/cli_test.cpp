// The CLI contract of docs/design.md, through the built binary, on fixture roots.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace xa {
namespace {

using test::fixture;
using test::run_cli;
const std::string kVendor = std::string(XA_SOURCE_DIR) + "/config";

TEST(Cli, DetectJsonOnEveryFixture) {
    const std::pair<const char*, const char*> cases[] = {
        {"pv-dom0-before-xenfs", "dom0"},
        {"pv-dom0-after-xenfs", "dom0"},
        {"pvh-dom0", "dom0"},
        {"pv-domu", "domU"},
        {"hvm-domu", "domU"},
        {"native", "none"},
        {"kvm-guest", "none"},
        {"garbage", "domU"},
    };
    for (const auto& [fx, role] : cases) {
        const auto r = run_cli({"detect", "--json", "--root", fixture(fx)});
        ASSERT_EQ(r.exit_code, 0) << fx << ": " << r.err;
        const auto j = nlohmann::json::parse(r.out);
        for (const char* k : {"hypervisor", "role", "guest_type", "xen_version", "evidence",
                              "driver_domain", "kernel"})
            EXPECT_TRUE(j.contains(k)) << fx << " lacks " << k;
        EXPECT_EQ(j["role"], role) << fx;
        EXPECT_EQ(j["hypervisor"], std::string(role) == "none" ? "none" : "xen") << fx;
        EXPECT_FALSE(j["evidence"].empty());
    }
    const auto j = nlohmann::json::parse(
        run_cli({"detect", "--json", "--root", fixture("pv-dom0-before-xenfs")}).out);
    EXPECT_EQ(j["guest_type"], "PV");
    EXPECT_EQ(j["xen_version"], "4.17.7");
    EXPECT_EQ(j["kernel"], "6.1.0-56-amd64");
    EXPECT_EQ(j["evidence"][1]["source"], "sys/hypervisor/type");
    const auto g = nlohmann::json::parse(
        run_cli({"detect", "--json", "--root", fixture("domu-no-guest-type")}).out);
    EXPECT_TRUE(g["guest_type"].is_null());
}

TEST(Cli, DetectTextNamesTheEvidence) {
    const auto r = run_cli({"detect", "--root", fixture("pvh-dom0")});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("role:          dom0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sys/hypervisor/properties/features: XENFEAT_dom0 set"), std::string::npos)
        << r.out;
}

TEST(Cli, RoleNoneAttemptsNothing) {
    const auto r = run_cli(
        {"load", "--dry-run", "--json", "--root", fixture("native"), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "none");
    EXPECT_TRUE(j["modules"].empty());
    EXPECT_EQ(r.err.find("ENODEV"), std::string::npos);
}

TEST(Cli, PlanForDetectedDom0OnAFixtureWithoutModules) {
    const auto r = run_cli(
        {"plan", "--json", "--root", fixture("pv-dom0-after-xenfs"), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "dom0");
    ASSERT_EQ(j["modules"].size(), 10U);
    EXPECT_EQ(j["modules"][0]["state"], "loaded");  // xen-evtchn, from proc/modules
    EXPECT_EQ(j["modules"][0]["action"], "skip");
    EXPECT_EQ(j["modules"][2]["state"], "missing");  // xen-gntalloc: no tree in the fixture
}

TEST(Cli, DriverDomainModeFromPolicy) {
    test::TempDir root;
    for (const auto& e : std::filesystem::recursive_directory_iterator(fixture("pv-domu"))) {
        const auto rel = std::filesystem::relative(e.path(), fixture("pv-domu"));
        if (e.is_directory())
            std::filesystem::create_directories(root.path() + "/" + rel.string());
        else
            std::filesystem::copy_file(e.path(), root.path() + "/" + rel.string());
    }
    root.write("etc/xen-autoload/local.conf", "driver-domain yes\n");
    auto r = run_cli({"detect", "--json", "--root", root.path(), "--vendor-dir", kVendor});
    EXPECT_EQ(nlohmann::json::parse(r.out)["driver_domain"], true);
    r = run_cli({"plan", "--json", "--root", root.path(), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "driver-domain");
    EXPECT_EQ(j["modules"].size(), 8U);
}

TEST(Cli, ConfigErrorIsOneLineExitTwoNothingLoaded) {
    test::TempDir root;
    root.write("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
    const std::string bad =
        root.write("etc/xen-autoload/local.conf", "require dom0 xen-netback\nrequire dom7 x\n");
    for (const char* cmd : {"plan", "load", "status"}) {
        std::vector<std::string> args{cmd,    "--root",       root.path(), "--role",
                                      "dom0", "--vendor-dir", kVendor};
        if (std::string(cmd) == "load") args.push_back("--dry-run");
        const auto r = run_cli(args);
        EXPECT_EQ(r.exit_code, 2) << cmd;
        EXPECT_EQ(r.err, "xen-autoload: error: " + bad +
                             ":2: unknown role (dom0, domU or driver-domain): 'dom7'\n")
            << cmd;
        EXPECT_TRUE(r.out.empty()) << cmd;
    }
}

TEST(Cli, UsageErrorsExitTwo) {
    EXPECT_EQ(run_cli({}).exit_code, 2);
    EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(run_cli({"detect", "--bogus"}).exit_code, 2);
    EXPECT_EQ(run_cli({"detect", "--role", "dom0"}).exit_code, 2);
    EXPECT_EQ(run_cli({"plan", "--role", "dom1"}).exit_code, 2);
    EXPECT_EQ(run_cli({"load", "--dry-run", "--jobs", "0"}).exit_code, 2);
    EXPECT_EQ(run_cli({"detect", "--root", "/nonexistent/xa"}).exit_code, 2);
    EXPECT_EQ(run_cli({"detect", "extra"}).exit_code, 2);
}

TEST(Cli, HelpAndVersion) {
    auto r = run_cli({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, std::string("xen-autoload ") + XA_VERSION + "\n");
    r = run_cli({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* c : {"detect", "plan", "load", "status"})
        EXPECT_NE(r.out.find(c), std::string::npos);
}

// No policy file at all in a role that loads modules: nothing is required, which is not
// "complete" (the shipped default.conf is gone): a warning and exit 1.
TEST(Cli, StatusWithoutAnyPolicyIsIncomplete) {
    test::TempDir t;
    t.write("vendor/README", "no policy here\n");
    const auto r = run_cli({"status", "--json", "--root", fixture("pv-dom0-after-xenfs"),
                            "--vendor-dir", t.path() + "/vendor"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["role"], "dom0");
    EXPECT_EQ(j["complete"], false);
    EXPECT_EQ(j["warnings"][0], "no policy file found: nothing to load");
    const auto text = run_cli({"status", "--root", fixture("pv-dom0-after-xenfs"), "--role", "domU",
                               "--vendor-dir", t.path() + "/vendor"});
    EXPECT_EQ(text.exit_code, 1) << text.err;
    EXPECT_NE(text.out.find("INCOMPLETE\nwarning: no policy file found"), std::string::npos)
        << text.out;
}

// pciback-hide through the binary: plan lists the matched devices, status reports each one's
// driver and fails (exit 1) until it is bound to pciback, load --dry-run says what it would do.
TEST(Cli, PcibackHidePlanStatusAndLoad) {
    test::TempDir t;
    const std::string root = t.path() + "/root";
    std::filesystem::copy(fixture("pv-dom0-after-xenfs"), root,
                          std::filesystem::copy_options::recursive);
    {
        std::ofstream(root + "/proc/modules", std::ios::app)
            << "xen_pciback 20480 0 - Live 0x0000000000000000\n";
    }
    const std::string dev = "root/sys/devices/pci0000:00/0000:00:04.0";
    t.write(dev + "/vendor", "0x8086\n");
    t.write(dev + "/device", "0x100e\n");
    t.write(dev + "/class", "0x020000\n");
    t.mkdir("root/sys/bus/pci/devices");
    t.mkdir("root/sys/bus/pci/drivers/e1000");
    t.mkdir("root/sys/bus/pci/drivers/pciback");
    ASSERT_EQ(::symlink("../../../devices/pci0000:00/0000:00:04.0",
                        (root + "/sys/bus/pci/devices/0000:00:04.0").c_str()),
              0);
    const std::string driver_link = t.path() + "/" + dev + "/driver";
    ASSERT_EQ(::symlink("../../../bus/pci/drivers/e1000", driver_link.c_str()), 0);
    const std::string vendor = t.path() + "/vendor";
    t.write("vendor/hide.conf", "pciback-hide 8086:100e\npciback-hide class=0x0300\n");
    const std::string origin = vendor + "/hide.conf:1";

    const auto plan = run_cli({"plan", "--json", "--root", root, "--vendor-dir", vendor});
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    const auto pj = nlohmann::json::parse(plan.out);
    EXPECT_EQ(pj["modules"][0]["name"], "xen_pciback");
    EXPECT_EQ(pj["modules"][0]["optional"], false);
    EXPECT_EQ(pj["pci_hide"]["applies"], true);
    EXPECT_EQ(pj["pci_hide"]["rules"][0]["devices"][0], "0000:00:04.0");
    EXPECT_EQ(pj["pci_hide"]["devices"][0]["driver"], "e1000");
    EXPECT_EQ(pj["pci_hide"]["notes"][0],
              "pciback-hide class=0x0300 (" + vendor + "/hide.conf:2): matches no device");

    auto status = run_cli({"status", "--root", root, "--vendor-dir", vendor});
    EXPECT_EQ(status.exit_code, 1) << status.err;
    EXPECT_NE(
        status.out.find("MISSING  0000:00:04.0  [e1000] pciback-hide 8086:100e (" + origin + ")\n"),
        std::string::npos)
        << status.out;
    auto sj = nlohmann::json::parse(
        run_cli({"status", "--json", "--root", root, "--vendor-dir", vendor}).out);
    EXPECT_EQ(sj["complete"], false);
    EXPECT_EQ(sj["pci_hide"]["devices"][0], (nlohmann::json{{"address", "0000:00:04.0"},
                                                            {"selector", "8086:100e"},
                                                            {"origin", origin},
                                                            {"driver", "e1000"},
                                                            {"hidden", false}}));

    const auto load =
        run_cli({"load", "--dry-run", "--json", "--root", root, "--vendor-dir", vendor});
    EXPECT_EQ(load.exit_code, 0) << load.err;
    const auto lj = nlohmann::json::parse(load.out);
    EXPECT_EQ(lj["pci_hide"][0]["result"], "would-hide");
    EXPECT_EQ(lj["pci_hide"][0]["driver_before"], "e1000");

    // Bound to pciback: complete, exit 0.
    ASSERT_EQ(::unlink(driver_link.c_str()), 0);
    ASSERT_EQ(::symlink("../../../bus/pci/drivers/pciback", driver_link.c_str()), 0);
    status = run_cli({"status", "--root", root, "--vendor-dir", vendor});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_NE(status.out.find("ok       0000:00:04.0  [pciback]"), std::string::npos) << status.out;
    sj = nlohmann::json::parse(
        run_cli({"status", "--json", "--root", root, "--vendor-dir", vendor}).out);
    EXPECT_EQ(sj["pci_hide"]["devices"][0]["hidden"], true);

    // Not the initial domain: nothing to hide, the reason said, and status does not fail on it.
    status = run_cli({"status", "--role", "domU", "--root", root, "--vendor-dir", vendor});
    EXPECT_NE(status.out.find("pciback-hide: role domU: only the initial domain (dom0)"),
              std::string::npos)
        << status.out;
}

// A malformed selector stops plan, load and status with the policy error convention.
TEST(Cli, PcibackHideBadSelectorIsAConfigError) {
    test::TempDir vendor;
    vendor.write("50-hide.conf", "# hide the NIC\n\npciback-hide 00:4.0x\n");
    for (const char* cmd : {"plan", "status"}) {
        const auto r =
            run_cli({cmd, "--root", fixture("pv-dom0-after-xenfs"), "--vendor-dir", vendor.path()});
        EXPECT_EQ(r.exit_code, 2) << cmd;
        EXPECT_NE(r.err.find(vendor.path() +
                             "/50-hide.conf:3: pciback-hide: not a PCI address, vendor:device id "
                             "or class=0xCCSS[PP]: '00:4.0x'"),
                  std::string::npos)
            << r.err;
    }
}

// The deny list the daemon writes in /run/modprobe.d (below the root under --root): with
// deny rules, status fails (exit 1) with one line naming the file, what is wrong, the
// modules it fails to cover and the remedy, when the file is missing or stale (unreadable:
// deny_list_test.cpp; libkmod's guard refuses a FIFO in run/modprobe.d first, exit 2).
// In place, or no rule and no file: the output is as before, exit 0.
TEST(Cli, StatusChecksTheDenyListInPlace) {
    test::TempDir t;
    const std::string root = t.path() + "/root";
    std::filesystem::copy(fixture("pv-dom0-after-xenfs"), root,
                          std::filesystem::copy_options::recursive);
    const std::string vendor = t.path() + "/vendor";
    const std::string deny_file = root + "/run/modprobe.d/xen-autoload-deny.conf";
    const std::string remedy =
        "restart xen-autoload.service (systemctl restart xen-autoload) and check that " + root +
        "/run/modprobe.d is writable\n";
    const std::vector<std::string> status{"status", "--root", root, "--vendor-dir", vendor};
    std::vector<std::string> status_json = status;
    status_json.push_back("--json");

    // No deny rule, no file: complete, no deny list line; the JSON says it is in place.
    t.write("vendor/default.conf", "optional dom0 xen-evtchn\n");
    const auto before = run_cli(status);
    EXPECT_EQ(before.exit_code, 0) << before.out << before.err;
    EXPECT_EQ(before.out.find("deny list"), std::string::npos) << before.out;
    auto j = nlohmann::json::parse(run_cli(status_json).out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["deny_list"], (nlohmann::json{{"path", deny_file},
                                              {"in_place", true},
                                              {"problem", nullptr},
                                              {"message", nullptr},
                                              {"uncovered", nlohmann::json::array()},
                                              {"stale", nlohmann::json::array()}}));

    // A deny rule and no list (the daemon could not write it: a read-only /run/modprobe.d).
    t.write("vendor/default.conf", "optional dom0 xen-evtchn\ndeny xen-netback\n");
    auto r = run_cli(status);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find(": INCOMPLETE\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\ndeny list: " + deny_file +
                         " is missing: udev and modprobe can still load xen_netback; " + remedy),
              std::string::npos)
        << r.out;
    j = nlohmann::json::parse(run_cli(status_json).out);
    EXPECT_EQ(j["complete"], false);
    EXPECT_EQ(j["deny_list"]["in_place"], false);
    EXPECT_EQ(j["deny_list"]["problem"], "missing");
    EXPECT_EQ(j["deny_list"]["uncovered"], nlohmann::json::array({"xen_netback"}));

    // The list the daemon writes: in place, the output as without the check.
    const auto daemon = run_cli({"daemon", "--dry-run", "--once", "--root", root, "--vendor-dir",
                                 vendor, "--deny-file", deny_file});
    ASSERT_EQ(daemon.exit_code, 0) << daemon.err;
    r = run_cli(status);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("deny list"), std::string::npos) << r.out;
    j = nlohmann::json::parse(run_cli(status_json).out);
    EXPECT_EQ(j["deny_list"]["in_place"], true);
    // Other comments (another policy file path or line) blacklist the same: still in place.
    t.write("root/run/modprobe.d/xen-autoload-deny.conf",
            "# old header\nblacklist xen-netback    # deny netbk (/etc/x.conf:9)\n");
    EXPECT_EQ(run_cli(status).exit_code, 0);

    // A stale list from an older policy: another module blacklisted, the denied one not.
    t.write("root/run/modprobe.d/xen-autoload-deny.conf", "blacklist xen_blkback\n");
    r = run_cli(status);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("\ndeny list: " + deny_file +
                         " differs from the policy: udev and modprobe can still load xen_netback; "
                         "it blacklists xen_blkback, which no deny rule denies; " +
                         remedy),
              std::string::npos)
        << r.out;
    j = nlohmann::json::parse(run_cli(status_json).out);
    EXPECT_EQ(j["deny_list"]["problem"], "differs");
    EXPECT_EQ(j["deny_list"]["stale"], nlohmann::json::array({"xen_blkback"}));

    // No deny rule left but the list still blacklists a module (the daemon could not remove
    // it): stale, it blocks what the policy allows. Bytes that are not UTF-8 reach the JSON
    // replaced, the text escaped.
    t.write("vendor/default.conf", "optional dom0 xen-evtchn\n");
    t.write("root/run/modprobe.d/xen-autoload-deny.conf",
            "blacklist xen_netback\nblacklist caf\xe9\n");
    r = run_cli(status);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("deny list: " + deny_file +
                         " differs from the policy: it blacklists xen_netback, caf\\xe9, which no "
                         "deny rule denies; " +
                         remedy),
              std::string::npos)
        << r.out;
    const auto rj = run_cli(status_json);
    EXPECT_EQ(rj.exit_code, 1) << rj.err;
    j = nlohmann::json::parse(rj.out);
    EXPECT_EQ(j["deny_list"]["stale"], nlohmann::json::array({"xen_netback", "caf\xef\xbf\xbd"}));
    // Only comments (or an empty file): it blacklists nothing, nothing to report.
    t.write("root/run/modprobe.d/xen-autoload-deny.conf", "# nothing denied\n");
    EXPECT_EQ(run_cli(status).exit_code, 0);
}

// Not on Xen the daemon writes no deny list: status does not look for one.
TEST(Cli, StatusDoesNotCheckTheDenyListOffXen) {
    test::TempDir vendor;
    vendor.write("default.conf", "deny xen-netback\n");
    const auto r = run_cli(
        {"status", "--json", "--root", fixture("kvm-guest"), "--vendor-dir", vendor.path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(nlohmann::json::parse(r.out)["deny_list"].is_null()) << r.out;
}

TEST(Cli, StatusCompleteForRoleNone) {
    const auto r = run_cli({"status", "--root", fixture("kvm-guest"), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

// A policy file name that is not UTF-8 reaches the JSON (evidence, origin, reason): the
// output replaces the bad bytes instead of aborting in nlohmann's dump.
TEST(Cli, JsonNeverThrowsOnNonUtf8Names) {
    test::TempDir vendor;
    vendor.write("caf\xe9.conf", "require dom0 xen-evtchn\ndeny xen-evtchn\n");
    test::TempDir bad;
    bad.write("caf\xe9.conf", "bogus\n");
    const std::string root = fixture("pv-dom0-before-xenfs");
    for (const char* cmd : {"plan", "status"}) {
        const auto r = run_cli({cmd, "--json", "--root", root, "--vendor-dir", vendor.path()});
        EXPECT_LT(r.exit_code, 2) << cmd << ": " << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_NE(j["modules"][0]["reason"].get<std::string>().find("caf\xef\xbf\xbd.conf:2"),
                  std::string::npos)
            << cmd;
    }
    const auto d = run_cli({"detect", "--json", "--root", root, "--vendor-dir", bad.path()});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    // The evidence quotes the error message, where the name is escaped (text_escape.h).
    EXPECT_NE(nlohmann::json::parse(d.out).dump().find("caf\\\\xe9.conf:1"), std::string::npos)
        << d.out;
}

// Values from uevents/arguments reach the log escaped and bounded; a domU loads nothing.
TEST(Cli, UdevEscapesForgedValuesAndAppliesTheRole) {
    auto r = run_cli({"udev", "--dry-run", "--root", fixture("pv-dom0-before-xenfs"),
                      "--vendor-dir", kVendor, "xen-backend:vif", "/x\n<0>FORGED"});
    EXPECT_EQ(r.err.find("\n<0>"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("device /x\\x0a<0>FORGED asks for xen-backend:vif"), std::string::npos)
        << r.err;
    r = run_cli({"udev", "--dry-run", "xen-backend:" + std::string(300, 'A') + "\n"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_LT(r.err.size(), 200U) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    r = run_cli({"udev", "--dry-run", "--root", fixture("hvm-domu"), "--vendor-dir", kVendor,
                 "xen-backend:vif", "/devices/xen-backend/vif-3-0"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("domain 3's vif device vif-3-0 asks for xen-backend:vif: not loaded: "
                         "role domU loads no backends (driver-domain no)"),
              std::string::npos)
        << r.err;
}

// A --root tree whose files would hang libkmod (FIFO), feed it endless data (/dev/zero) or
// lead it out of the root: refused before libkmod sees it, one line naming the file, exit 2.
TEST(Cli, HostileTreeIsRefusedBeforeLibkmod) {
    namespace fs = std::filesystem;
    struct Case {
        const char* rel;
        const char* kind;  // fifo, zero (symlink to /dev/zero), out (symlink out of the root)
        const char* why;
    };
    const Case cases[] = {
        {"lib/modules/6.1.0-56-amd64/modules.dep.bin", "fifo", "FIFO, not a regular file"},
        {"lib/modules/6.1.0-56-amd64/modules.alias.bin", "fifo", "FIFO, not a regular file"},
        {"lib/modules/6.1.0-56-amd64/modules.softdep", "fifo", "FIFO, not a regular file"},
        {"etc/modprobe.d/f.conf", "fifo", "FIFO, not a regular file"},
        {"etc/modprobe.d/z.conf", "zero", "symbolic link leads out of the root"},
        {"lib/modprobe.d", "out", "symbolic link leads out of the root"},
        {"lib/modules/6.1.0-56-amd64/modules.symbols.bin", "out",
         "symbolic link leads out of the root"},
    };
    for (const Case& c : cases) {
        test::TempDir t;
        fs::copy(fixture("pv-dom0-before-xenfs"), t.path(), fs::copy_options::recursive);
        const std::string p = t.path() + "/" + c.rel;
        fs::create_directories(fs::path(p).parent_path());
        const std::string kind = c.kind;
        if (kind == "fifo") {
            ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
        }
        if (kind == "zero") fs::create_symlink("/dev/zero", p);
        if (kind == "out") fs::create_symlink(fixture("native"), p);
        for (const char* cmd : {"plan", "status"}) {
            const auto r = run_cli({cmd, "--root", t.path(), "--vendor-dir", kVendor});
            EXPECT_EQ(r.exit_code, 2) << c.rel << ": " << r.err;
            EXPECT_EQ(r.err,
                      "xen-autoload: error: " + p + ": not handed to libkmod: '" + c.why + "'\n")
                << c.rel;
        }
        const auto u = run_cli({"udev", "--dry-run", "--root", t.path(), "--vendor-dir", kVendor,
                                "xen-backend:vif", "/devices/xen-backend/vif-1-0"});
        EXPECT_EQ(u.exit_code, 2) << c.rel << ": " << u.err;
    }
    // An oversized modprobe.d file.
    test::TempDir t;
    fs::copy(fixture("pv-dom0-before-xenfs"), t.path(), fs::copy_options::recursive);
    t.write("etc/modprobe.d/big.conf", std::string(2 * 1024 * 1024, '#'));
    const auto r = run_cli({"plan", "--root", t.path(), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("big.conf: not handed to libkmod: 'larger than 1048576 bytes'"),
              std::string::npos)
        << r.err;
}

// libkmod's own "libkmod: ERROR ..." lines (here from kmod_new's config parsing) never reach
// stderr raw: they go through our log at debug level.
TEST(Cli, LibkmodMessagesDoNotLeak) {
    test::TempDir t;
    std::filesystem::copy(fixture("pv-dom0-before-xenfs"), t.path(),
                          std::filesystem::copy_options::recursive);
    t.write("etc/modprobe.d/bad.conf", "frobnicate xen_netback\n");
    const auto r = run_cli({"plan", "--root", t.path(), "--vendor-dir", kVendor});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("libkmod"), std::string::npos) << r.err;
}

// Small user-facing messages: the refused option is named, not its value.
TEST(Cli, RefusedOptionIsNamedNotItsValue) {
    const auto r = run_cli({"detect", "--role", "dom0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("detect: --role: option not taken by this command"), std::string::npos)
        << r.err;
}

TEST(Cli, DaemonDryRunOnceDoesNotClaimToLoadOrWatch) {
    test::TempDir t;
    t.write("vendor/default.conf", "optional dom0 xen-evtchn\n");  // the fixture has no tree
    const auto r =
        run_cli({"daemon", "--dry-run", "--once", "--root", fixture("pv-dom0-before-xenfs"),
                 "--vendor-dir", t.path() + "/vendor", "--deny-file", t.path() + "/deny.conf"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("ready: dom0: dry run, nothing loaded, not watching (--once)"),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace xa
