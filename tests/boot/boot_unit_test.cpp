// Boot integration, narrow unit tests: uevent parsing and the sender check, alias checks,
// backend device names, the deny list file. (The netlink socket itself:
// boot_netlink_test.cpp; the daemon end to end: daemon-test.sh.)
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../unit/fake_index.h"
#include "deny_list.h"
#include "udev_helper.h"
#include "uevent_monitor.h"
#include "uevent_samples.h"

namespace xa {
namespace {

using namespace std::string_literals;

std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }

using test::vif_add;

TEST(ParseUevent, KernelMessage) {
    ASSERT_EQ(vif_add().back(), '\0');
    const auto ev = parse_uevent(bytes(vif_add()));
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->action, "add");
    EXPECT_EQ(ev->devpath, "/devices/xen-backend/vif-3-0");
    EXPECT_EQ(ev->get("MODALIAS"), "xen-backend:vif");
    EXPECT_EQ(ev->get("SEQNUM"), "1234");
    EXPECT_FALSE(ev->get("NOPE"));
}

TEST(ParseUevent, CpuModaliasWithTheKernelsTrailingNewline) {
    // What `udevadm trigger` makes the kernel send for each CPU at every boot.
    const auto ev = parse_uevent(
        bytes(("change@/devices/system/cpu/cpu0\0ACTION=change\0DEVPATH=/devices/system/cpu/cpu0\0"
               "SUBSYSTEM=cpu\0SYNTH_UUID=0\0MODALIAS=cpu:type:x86,ven0002fam0019mod0011:feature:,"
               "0000,0001\n\0SEQNUM=2951\0"s)));
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->get("MODALIAS"), "cpu:type:x86,ven0002fam0019mod0011:feature:,0000,0001");
    // Only one newline, only at the end.
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=a\n\n\0"s))));
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=a\nb\0"s))));
}

TEST(ParseUevent, RefusesOtherFormatsAndGarbage) {
    // udev's own monitor format starts with "libudev\0" and a binary header.
    EXPECT_FALSE(parse_uevent(bytes(("libudev\0\xfe\xed\xca\xfe"s))));
    // Header disagrees with ACTION/DEVPATH.
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/b\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("remove@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0"s))));
    // No '@' header, no ACTION, a field without '=', control characters, no final NUL.
    EXPECT_FALSE(parse_uevent(bytes(("ACTION=add\0DEVPATH=/devices/a\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0DEVPATH=/devices/a\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0JUNK\0"s))));
    EXPECT_FALSE(
        parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a\0X=\x1b[2J\0"s))));
    EXPECT_FALSE(parse_uevent(bytes(("add@/devices/a\0ACTION=add\0DEVPATH=/devices/a"s))));
    EXPECT_FALSE(parse_uevent(bytes(std::string())));
}

TEST(CheckSender, OnlyTheKernelAsRoot) {
    EXPECT_EQ(check_sender(0, 0u), SenderVerdict::kernel);
    EXPECT_EQ(check_sender(4242, 0u), SenderVerdict::not_kernel_port);
    EXPECT_EQ(check_sender(0, std::nullopt), SenderVerdict::no_credentials);
    EXPECT_EQ(check_sender(0, 1000u), SenderVerdict::not_root);
}

TEST(CheckAlias, OnlyXenAliases) {
    EXPECT_EQ(check_alias("xen-backend:vif"), "");
    EXPECT_EQ(check_alias("xen-backend:vbd"), "");
    EXPECT_EQ(check_alias("xen:vbd"), "");
    EXPECT_NE(check_alias("pci:v00008086d*"), "");
    EXPECT_NE(check_alias("xen-backend:"), "");
    EXPECT_NE(check_alias("xen-backend:vif;reboot"), "");
    EXPECT_NE(check_alias("xen-backend:vif $(id)"), "");
    EXPECT_NE(check_alias("xen-backend:VIF"), "");
    EXPECT_NE(check_alias("xen-backend:" + std::string(33, 'a')), "");
    EXPECT_NE(check_alias("fs-xenfs"), "");
}

TEST(BackendDevpath, DomainAndDevice) {
    const auto d = parse_backend_devpath("/devices/xen-backend/vif-3-0");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, "vif");
    EXPECT_EQ(d->domid, 3u);
    EXPECT_EQ(d->devid, 0u);
    const auto v = parse_backend_devpath("/devices/xen-backend/vbd-12-51712");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->domid, 12u);
    EXPECT_EQ(v->devid, 51712u);
    const auto q = parse_backend_devpath("/devices/xen-backend/qdisk-1-768");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->type, "qdisk");
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/vif"));
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/vif-x-0"));
    EXPECT_FALSE(parse_backend_devpath("/devices/xen-backend/-1-0"));
    EXPECT_FALSE(parse_backend_devpath(""));
}

TEST(DenyList, TextResolvesNamesAndAliases) {
    Policy p;
    parse_policy("deny netbk xen-blkback\n", "/etc/xen-autoload/x.conf", p);
    test::FakeIndex index;
    index.states["xen_netback"] = ModuleState::loadable;
    index.states["xen_blkback"] = ModuleState::loadable;
    index.aliases["netbk"] = "xen_netback";
    const std::string text = deny_list_text(p, &index);
    EXPECT_NE(text.find("blacklist xen_netback    # deny netbk (/etc/xen-autoload/x.conf:1)\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("blacklist xen_blkback "), std::string::npos) << text;
    Policy none;
    EXPECT_EQ(deny_list_text(none, &index), "");
}

TEST(DenyList, WriteReplaceRemove) {
    char tmpl[] = "/tmp/xa-deny-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string path = std::string(tmpl) + "/modprobe.d/xen-autoload-deny.conf";
    EXPECT_EQ(write_deny_list(path, "blacklist a\n"), "");
    EXPECT_EQ(write_deny_list(path, "blacklist b\n"), "");
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "blacklist b\n");
    EXPECT_EQ(write_deny_list(path, ""), "");
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
    EXPECT_EQ(write_deny_list(path, ""), "");  // already gone: fine
    const std::string bad = write_deny_list("/proc/no-such-dir/x/deny.conf", "blacklist a\n");
    EXPECT_NE(bad.find("cannot create /proc/no-such-dir"), std::string::npos) << bad;
    (void)std::system(("rm -rf " + std::string(tmpl)).c_str());
}

// Without an alias "netbk" in the tree (the real one has none), the legacy map decides; an
// alias rule blacklists the module it resolves to.
TEST(DenyList, LegacyNamesThroughTheMapAndAliases) {
    Policy p;
    parse_policy("deny netbk xen-backend:vbd xen-backend:nosuch\n", "/etc/xen-autoload/x.conf", p);
    test::FakeIndex index;
    index.states["xen_netback"] = ModuleState::loadable;
    index.states["xen_blkback"] = ModuleState::loadable;
    index.aliases["xen-backend:vbd"] = "xen_blkback";
    const std::string text = deny_list_text(p, &index);
    EXPECT_NE(text.find("blacklist xen_netback    # deny netbk (/etc/xen-autoload/x.conf:1)\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("blacklist xen_blkback    # deny xen-backend:vbd"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("netbk\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("nosuch"), std::string::npos) << text;
    // Without an index: the legacy map still gives the mainline name.
    EXPECT_NE(deny_list_text(p, nullptr).find("blacklist xen_netback "), std::string::npos);
}

// Under the unit's UMask=0077: new directories still 0755, the file 0644; the temporary
// file has a unique name (a planted PATH.tmp symlink is neither followed nor removed) and
// nothing is left behind.
TEST(DenyList, WriteUnderUmask077) {
    char tmpl[] = "/tmp/xa-deny-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string base = tmpl;
    const std::string path = base + "/a/modprobe.d/xen-autoload-deny.conf";
    ASSERT_EQ(::mkdir((base + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((base + "/a/modprobe.d").c_str(), 0755), 0);
    const std::string victim = base + "/victim";
    std::ofstream(victim) << "keep\n";
    ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
    ::rmdir((base + "/b").c_str());
    const mode_t old = ::umask(077);
    const std::string deep = base + "/b/c/deny.conf";
    const std::string e1 = write_deny_list(path, "blacklist a\n");
    const std::string e2 = write_deny_list(deep, "blacklist a\n");
    ::umask(old);
    EXPECT_EQ(e1, "");
    EXPECT_EQ(e2, "");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U);
    for (const std::string& d : {base + "/b", base + "/b/c"}) {
        ASSERT_EQ(::stat(d.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0755U) << d;
    }
    ASSERT_EQ(::stat(deep.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U);
    std::ifstream in(victim);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "keep\n");
    EXPECT_EQ(::lstat((path + ".tmp").c_str(), &st), 0);  // the planted link, untouched
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(base + "/b/c")) {
        (void)e;
        ++entries;
    }
    EXPECT_EQ(entries, 1U) << "a temporary file was left behind";
    (void)std::system(("rm -rf " + base).c_str());
}

}  // namespace
}  // namespace xa
