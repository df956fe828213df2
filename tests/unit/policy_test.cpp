#include "policy.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysroot.h"
#include "test_util.h"

namespace xa {
namespace {

std::string error_of(const std::string& text) {
    Policy p;
    try {
        parse_policy(text, "/etc/xen-autoload/x.conf", p);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(PolicyParse, ShippedDefaultMatchesTheIssue) {
    test::TempDir t;
    const Policy p = load_policy(SysRoot(t.path()),
                                 {{"/etc/xen-autoload"}, std::string(XA_SOURCE_DIR) + "/config"});
    std::vector<std::string> required, optional;
    for (const ModuleRequest& r : p.for_role(Role::dom0))
        (r.optional ? optional : required).push_back(r.name);
    EXPECT_EQ(required,
              (std::vector<std::string>{"xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd",
                                        "xenfs", "xen-blkback", "xen-netback"}));
    EXPECT_EQ(optional,
              (std::vector<std::string>{"xen-pciback", "xen-scsiback", "xen-acpi-processor"}));
    EXPECT_TRUE(p.for_role(Role::domU).empty());
    EXPECT_TRUE(p.for_role(Role::none).empty());
    EXPECT_FALSE(p.for_role(Role::driver_domain).empty());
    EXPECT_FALSE(p.driver_domain);
    EXPECT_EQ(effective_role(Role::domU, p), Role::domU);
}

// The shipped file must not set driver-domain: read after an admin's drop-in named before
// "default.conf" (50-driver-domain.conf, as the deny boot's driver domain has it), its
// "driver-domain no" turned the admin's "yes" off, and the domain loaded no backend.
TEST(PolicyFiles, DriverDomainDropInOfAnyNameWinsOverTheShippedDefault) {
    for (const char* name : {"50-driver-domain.conf", "a.conf", "local.conf", "zz.conf"}) {
        test::TempDir root;
        root.write(std::string("etc/xen-autoload/") + name, "driver-domain yes\n");
        const Policy p = load_policy(
            SysRoot(root.path()),
            {{"/etc/xen-autoload", "/run/xen-autoload"}, std::string(XA_SOURCE_DIR) + "/config"});
        EXPECT_TRUE(p.driver_domain) << name;
        EXPECT_EQ(effective_role(Role::domU, p), Role::driver_domain) << name;
    }
}

TEST(PolicyParse, DirectivesCommentsAndDriverDomain) {
    Policy p;
    parse_policy(
        "# comment\n\n  require dom0 a b # trailing\noptional dom0 c\r\ndeny xen_netback\n"
        "driver-domain yes\noptional dom0 a\n",
        "f.conf", p);
    ASSERT_EQ(p.for_role(Role::dom0).size(), 3U);
    EXPECT_FALSE(p.for_role(Role::dom0)[0].optional);  // require wins over a later optional
    EXPECT_EQ(p.for_role(Role::dom0)[0].origin, "f.conf:3");
    EXPECT_TRUE(p.for_role(Role::dom0)[2].optional);
    ASSERT_NE(p.denied("xen-netback"), nullptr);  // '-' and '_' are the same
    EXPECT_EQ(p.denied("xen-netback")->origin, "f.conf:5");
    EXPECT_TRUE(p.driver_domain);
    EXPECT_EQ(effective_role(Role::domU, p), Role::driver_domain);
    EXPECT_EQ(effective_role(Role::dom0, p), Role::dom0);
}

TEST(PolicyParse, ErrorsNameFileLineAndValue) {
    EXPECT_EQ(error_of("require dom0 a\nloadd dom0 x\n"),
              "/etc/xen-autoload/x.conf:2: unknown directive (require, optional, deny, "
              "driver-domain, pciback-hide): 'loadd'");
    EXPECT_EQ(error_of("require dom1 x\n"),
              "/etc/xen-autoload/x.conf:1: unknown role (dom0, domU or driver-domain): 'dom1'");
    EXPECT_EQ(error_of("require none x\n"),
              "/etc/xen-autoload/x.conf:1: unknown role (dom0, domU or driver-domain): 'none'");
    EXPECT_EQ(error_of("\n\nrequire dom0 x/../y\n"),
              "/etc/xen-autoload/x.conf:3: invalid module name: 'x/../y'");
    EXPECT_EQ(error_of("driver-domain maybe\n"),
              "/etc/xen-autoload/x.conf:1: driver-domain value must be yes or no: 'maybe'");
    EXPECT_EQ(error_of("require dom0\n"),
              "/etc/xen-autoload/x.conf:1: no module named: 'require dom0'");
    EXPECT_EQ(error_of("deny\n"), "/etc/xen-autoload/x.conf:1: no module named: 'deny'");
    EXPECT_EQ(error_of("deny $(reboot)\n"),
              "/etc/xen-autoload/x.conf:1: invalid module name: '$(reboot)'");
    EXPECT_NE(error_of("require dom0 a\x01\n").find(":1: control character"), std::string::npos);
}

TEST(PolicyParse, PcibackHideEverySelectorFormInOrderDuplicatesMerged) {
    Policy p;
    parse_policy(
        "pciback-hide 0000:00:04.0 8086:100e # sys-net\n"
        "pciback-hide\tclass=0x0200 class=0x0c0330 00:04.0 00:05.0\n",
        "/etc/xen-autoload/50-hide.conf", p);
    std::vector<std::string> got;
    for (const PciHideRule& r : p.pciback_hide) got.push_back(r.selector.text() + "@" + r.origin);
    EXPECT_EQ(got, (std::vector<std::string>{
                       "0000:00:04.0@/etc/xen-autoload/50-hide.conf:1",
                       "8086:100e@/etc/xen-autoload/50-hide.conf:1",
                       "class=0x0200@/etc/xen-autoload/50-hide.conf:2",
                       "class=0x0c0330@/etc/xen-autoload/50-hide.conf:2",
                       // 00:04.0 is 0000:00:04.0 again: merged, first origin kept
                       "0000:00:05.0@/etc/xen-autoload/50-hide.conf:2",
                   }));
    // Not role-scoped, like deny: no module request either (plan.cpp adds xen-pciback).
    EXPECT_TRUE(p.for_role(Role::dom0).empty());
}

TEST(PolicyParse, PcibackHideErrorsNameFileLineAndValue) {
    const std::string what =
        ": pciback-hide: not a PCI address, vendor:device id or class=0xCCSS[PP]: ";
    EXPECT_EQ(error_of("# hide\n\npciback-hide 00:04.0 00:4.0x\n"),
              "/etc/xen-autoload/x.conf:3" + what + "'00:4.0x'");
    for (const char* bad : {"8086:100", "class=0x02", "class=0x0200000", "0000:00:04.8", "00:20.0",
                            "8086", "class=0xzz00", "0000:00:04"})
        EXPECT_EQ(error_of(std::string("pciback-hide ") + bad + "\n"),
                  "/etc/xen-autoload/x.conf:1" + what + "'" + bad + "'")
            << bad;
    EXPECT_EQ(error_of("pciback-hide\n"),
              "/etc/xen-autoload/x.conf:1: pciback-hide: no device selector: 'pciback-hide'");
    EXPECT_EQ(error_of("pciback-hide $(reboot)\n"),
              "/etc/xen-autoload/x.conf:1" + what + "'$(reboot)'");
    // A role where require/optional have one is a selector error, not a silent scope.
    EXPECT_EQ(error_of("pciback-hide dom0 00:04.0\n"),
              "/etc/xen-autoload/x.conf:1" + what + "'dom0'");
}

TEST(PolicyFiles, EtcMasksRunMasksVendorAndEmptyOrDevNullDisables) {
    test::TempDir root;
    test::TempDir vendor;
    vendor.write("default.conf", "require dom0 from-vendor\n");
    vendor.write("extra.conf", "require dom0 vendor-extra\n");
    vendor.write("gone.conf", "require dom0 vendor-gone\n");
    vendor.write("README", "require dom0 not-a-conf\n");
    root.write("run/xen-autoload/default.conf", "require dom0 from-run\n");
    root.write("etc/xen-autoload/default.conf", "require dom0 from-etc\n");
    root.write("etc/xen-autoload/extra.conf", "");  // empty: disables the vendor file
    root.mkdir("run/xen-autoload");
    ASSERT_EQ(::symlink("/dev/null", (root.path() + "/run/xen-autoload/gone.conf").c_str()), 0);
    root.write("run/xen-autoload/zz-local.conf", "deny xen-netback\n");

    const PolicyDirs dirs{{"/etc/xen-autoload", "/run/xen-autoload", "/usr/lib/xen-autoload"},
                          vendor.path()};
    const auto files = discover_policy_files(SysRoot(root.path()), dirs);
    ASSERT_EQ(files.size(), 4U);
    EXPECT_EQ(files[0].path, root.path() + "/etc/xen-autoload/default.conf");
    EXPECT_TRUE(files[1].disabled);  // extra.conf
    EXPECT_TRUE(files[2].disabled);  // gone.conf
    EXPECT_EQ(files[3].name, "zz-local.conf");

    const Policy p = load_policy(SysRoot(root.path()), dirs);
    ASSERT_EQ(p.for_role(Role::dom0).size(), 1U);
    EXPECT_EQ(p.for_role(Role::dom0)[0].name, "from-etc");
    EXPECT_NE(p.denied("xen_netback"), nullptr);
    EXPECT_EQ(p.disabled.size(), 2U);
}

TEST(PolicyFiles, VendorDirIsBelowTheRootWithoutOverride) {
    test::TempDir root;
    root.write("usr/lib/xen-autoload/default.conf", "optional dom0 x\n");
    const Policy p =
        load_policy(SysRoot(root.path()),
                    {{"/etc/xen-autoload", "/run/xen-autoload", "/usr/lib/xen-autoload"}, {}});
    ASSERT_EQ(p.for_role(Role::dom0).size(), 1U);
    EXPECT_TRUE(p.for_role(Role::dom0)[0].optional);
}

TEST(PolicyFiles, ErrorInLaterFileStopsEverything) {
    test::TempDir root;
    root.write("etc/xen-autoload/a.conf", "require dom0 x\n");
    root.write("etc/xen-autoload/b.conf", "require dom0 x\nrequire dom0 ok bad!name\n");
    try {
        load_policy(SysRoot(root.path()), {{"/etc/xen-autoload"}, {}});
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  root.path() + "/etc/xen-autoload/b.conf:2: invalid module name: 'bad!name'");
    }
}

}  // namespace
}  // namespace xa

namespace xa {
namespace {

// 120k names on one line (just under the 1 MiB file cap): parsed completely, duplicates
// merged through the index (the parser keeps one map entry per distinct name, so it is
// linear; the figure is in the commit message, not a timing assertion).
TEST(PolicyParse, HugeLinesParseCompletelyAndMergeDuplicates) {
    std::string require = "require dom0";
    std::string deny = "deny";
    for (int i = 0; i < 60000; ++i) {
        require += " m" + std::to_string(i);
        deny += " d" + std::to_string(i);
    }
    for (int i = 0; i < 60000; ++i) require += " m" + std::to_string(i);  // all duplicates
    Policy p;
    parse_policy(require + "\n" + deny + "\ndeny d1 d_1 d-2\n", "/etc/xen-autoload/x.conf", p);
    ASSERT_EQ(p.for_role(Role::dom0).size(), 60000U);
    EXPECT_EQ(p.request_index[static_cast<std::size_t>(Role::dom0)].size(), 60000U);
    EXPECT_EQ(p.for_role(Role::dom0)[59999].name, "m59999");
    EXPECT_EQ(p.deny.size(), 60002U);  // d_1 and d-2 are new names, d1 is not
    ASSERT_NE(p.denied("d59999"), nullptr);
    EXPECT_EQ(p.denied("d-1")->name, "d_1");
    EXPECT_EQ(p.denied("nope"), nullptr);
    // A request named optional then require becomes required, through the index.
    Policy q;
    parse_policy("optional dom0 a b\nrequire dom0 b\n", "/x.conf", q);
    ASSERT_EQ(q.for_role(Role::dom0).size(), 2U);
    EXPECT_TRUE(q.for_role(Role::dom0)[0].optional);
    EXPECT_FALSE(q.for_role(Role::dom0)[1].optional);
}

// Runs FN in a forked child, as nobody when we are root (root bypasses permissions);
// returns its exit status.
template <typename Fn>
int as_nobody(Fn fn) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::geteuid() == 0 &&
            (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0))
            ::_exit(99);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(PolicyFiles, UnreadableDirectoryIsAConfigError) {
    test::TempDir root;
    ASSERT_EQ(::chmod(root.path().c_str(), 0755), 0);
    root.write("etc/xen-autoload/a.conf", "require dom0 x\n");
    const std::string dir = root.path() + "/etc/xen-autoload";
    ASSERT_EQ(::chmod((root.path() + "/etc").c_str(), 0755), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0), 0);
    const int rc = as_nobody([&] {
        try {
            load_policy(SysRoot(root.path()), {{"/etc/xen-autoload"}, {}});
        } catch (const ConfigError& e) {
            return std::string(e.what()) ==
                           dir +
                               ":0: cannot read the policy directory: 'Permission denied "
                               "(EACCES)'"
                       ? 0
                       : 2;
        }
        return 1;
    });
    ::chmod(dir.c_str(), 0755);
    EXPECT_EQ(rc, 0) << "1: no error, 2: another message, 99: cannot become nobody";
}

TEST(PolicyFiles, FifoPolicyFileIsAConfigErrorNotAHang) {
    test::TempDir root;
    root.mkdir("etc/xen-autoload");
    const std::string fifo = root.path() + "/etc/xen-autoload/a.conf";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    try {
        load_policy(SysRoot(root.path()), {{"/etc/xen-autoload"}, {}});
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), fifo + ":0: cannot read: 'FIFO, not a regular file'");
    }
}

// A file name with control characters cannot forge a log line through an error message.
TEST(PolicyParse, FileNameInErrorsIsEscaped) {
    Policy p;
    try {
        parse_policy("bogus\n", "/etc/xen-autoload/a\n<0>x.conf", p);
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/etc/xen-autoload/a\\x0a<0>x.conf:1: unknown directive (require, optional, "
                  "deny, driver-domain, pciback-hide): 'bogus'");
    }
    // The origin (for JSON) keeps the real name.
    parse_policy("require dom0 x\n", "/a\nb.conf", p);
    EXPECT_EQ(p.for_role(Role::dom0)[0].origin, "/a\nb.conf:1");
}

}  // namespace
}  // namespace xa
