// deny_list.cpp: the deny list text (names, aliases, legacy names) and the file in
// /run/modprobe.d.
#include "deny_list.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fake_index.h"
#include "sysroot.h"
#include "test_util.h"

namespace xa {
namespace {

constexpr const char* kNetbkLine =
    "blacklist xen_netback    # deny netbk (/etc/xen-autoload/x.conf:1)\n";

// The deny list of RULES (a policy file's text) on an index of the two backends, with one
// more ALIAS of MODULE.
std::string deny_text(const char* rules, const char* alias, const char* module) {
    Policy p;
    parse_policy(rules, "/etc/xen-autoload/x.conf", p);
    test::FakeIndex index;
    index.states["xen_netback"] = ModuleState::loadable;
    index.states["xen_blkback"] = ModuleState::loadable;
    index.aliases[alias] = module;
    return deny_list_text(p, &index);
}

TEST(DenyList, TextResolvesNamesAndAliases) {
    const std::string text = deny_text("deny netbk xen-blkback\n", "netbk", "xen_netback");
    EXPECT_NE(text.find(kNetbkLine), std::string::npos) << text;
    EXPECT_NE(text.find("blacklist xen_blkback "), std::string::npos) << text;
    EXPECT_EQ(deny_text("", "netbk", "xen_netback"), "");
}

TEST(DenyList, WriteReplaceRemove) {
    char tmpl[] = "/tmp/xa-deny-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string path = std::string(tmpl) + "/modprobe.d/xen-autoload-deny.conf";
    EXPECT_EQ(write_deny_list(path, "blacklist a\n"), std::nullopt);
    EXPECT_EQ(write_deny_list(path, "blacklist b\n"), std::nullopt);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), "blacklist b\n");
    EXPECT_EQ(write_deny_list(path, ""), std::nullopt);
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
    EXPECT_EQ(write_deny_list(path, ""), std::nullopt);  // already gone: fine
    const std::string bad =
        write_deny_list("/proc/no-such-dir/x/deny.conf", "blacklist a\n").value_or("");
    EXPECT_NE(bad.find("cannot create /proc/no-such-dir"), std::string::npos) << bad;
    // The temporary file cannot be made (here: its directory is a file; EROFS on a read-only
    // /run): the message names the deny list, not the random temporary name.
    const std::string file = std::string(tmpl) + "/file";
    std::ofstream(file) << "x";
    EXPECT_EQ(write_deny_list(file + "/deny.conf", "blacklist a\n"),
              "cannot write " + file + "/deny.conf: " + errno_text(ENOTDIR));
    (void)std::system(("rm -rf " + std::string(tmpl)).c_str());
}

// Without an alias "netbk" in the tree (the real one has none), the legacy map decides; an
// alias rule blacklists the module it resolves to.
TEST(DenyList, LegacyNamesThroughTheMapAndAliases) {
    const char* rules = "deny netbk xen-backend:vbd xen-backend:nosuch\n";
    const std::string text = deny_text(rules, "xen-backend:vbd", "xen_blkback");
    EXPECT_NE(text.find(kNetbkLine), std::string::npos) << text;
    EXPECT_NE(text.find("blacklist xen_blkback    # deny xen-backend:vbd"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("netbk\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("nosuch"), std::string::npos) << text;
    // Without an index: the legacy map still gives the mainline name.
    Policy p;
    parse_policy(rules, "/etc/xen-autoload/x.conf", p);
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
    const auto e1 = write_deny_list(path, "blacklist a\n");
    const auto e2 = write_deny_list(deep, "blacklist a\n");
    ::umask(old);
    EXPECT_EQ(e1, std::nullopt);
    EXPECT_EQ(e2, std::nullopt);
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

// The file as status checks it, below a root: compared by the modules it blacklists.
TEST(DenyList, CheckInPlaceMissingStaleUnreadable) {
    test::TempDir t;
    const SysRoot root(t.path());
    const std::string rel = "run/modprobe.d/xen-autoload-deny.conf";
    const std::string path = t.path() + "/" + rel;
    const std::string expected = deny_text("deny netbk xen-blkback\n", "netbk", "xen_netback");

    // No file: fine when nothing is denied, missing (every denied module uncovered) else.
    DenyListCheck c = check_deny_list(root, rel, "");
    EXPECT_TRUE(c.in_place());
    EXPECT_EQ(c.path, path);
    EXPECT_EQ(deny_list_problem_text(c), "");
    c = check_deny_list(root, rel, expected);
    EXPECT_EQ(c.problem, DenyListProblem::missing);
    EXPECT_EQ(c.uncovered, (std::vector<std::string>{"xen_netback", "xen_blkback"}));
    EXPECT_EQ(deny_list_problem_text(c),
              path +
                  " is missing: udev and modprobe can still load xen_netback, xen_blkback; "
                  "restart xen-autoload.service (systemctl restart xen-autoload) and check that " +
                  t.path() + "/run/modprobe.d is writable");

    // The same modules with other comments, order, spelling: in place.
    t.write(rel, expected);
    EXPECT_TRUE(check_deny_list(root, rel, expected).in_place());
    t.write(rel, "# x\n\n  blacklist\txen-blkback\nblacklist xen_netback # netbk\n");
    EXPECT_TRUE(check_deny_list(root, rel, expected).in_place());

    // One module left out, another added, a line the daemon never writes.
    t.write(rel, "blacklist xen_netback\nblacklist xen_pciback\ninstall xen_blkback /bin/true\n");
    c = check_deny_list(root, rel, expected);
    EXPECT_EQ(c.problem, DenyListProblem::differs);
    EXPECT_EQ(c.uncovered, std::vector<std::string>{"xen_blkback"});
    EXPECT_EQ(c.stale, std::vector<std::string>{"xen_pciback"});
    EXPECT_TRUE(c.other_lines);
    EXPECT_NE(deny_list_problem_text(c).find(
                  " differs from the policy: udev and modprobe can still load xen_blkback; it "
                  "blacklists xen_pciback, which no deny rule denies; it has lines other than "
                  "comments and blacklist ones; restart "),
              std::string::npos)
        << deny_list_problem_text(c);
    // Nothing denied any more, the old list still there: it blocks modules (stale).
    t.write(rel, expected);
    c = check_deny_list(root, rel, "");
    EXPECT_EQ(c.problem, DenyListProblem::differs);
    EXPECT_EQ(c.stale, (std::vector<std::string>{"xen_netback", "xen_blkback"}));
    EXPECT_TRUE(c.uncovered.empty());

    // Not a regular file: never opened for a blocking read, named as unreadable.
    std::filesystem::remove(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
    c = check_deny_list(root, rel, expected);
    EXPECT_EQ(c.problem, DenyListProblem::unreadable);
    EXPECT_STREQ(deny_list_problem_name(c.problem), "unreadable");
    EXPECT_NE(deny_list_problem_text(c).find(
                  path + " cannot be read: FIFO, not a regular file: cannot tell whether udev "
                         "and modprobe refuse xen_netback, xen_blkback; restart "),
              std::string::npos)
        << deny_list_problem_text(c);
    // A symlink out of the root is not followed out of it.
    std::filesystem::remove(path);
    std::filesystem::create_symlink("/etc/passwd", path);
    EXPECT_EQ(check_deny_list(root, rel, expected).problem, DenyListProblem::missing);
}

// A read-only /run/modprobe.d (a private mount namespace, the directory bind-mounted
// read-only): removing the list when there is none is nothing to do, though unlink(2)
// answers EROFS; removing an existing one, or writing one, still warns.
TEST(DenyList, RemoveOnReadOnlyDirectoryWithoutFile) {
    test::TempDir t;
    const std::string dir = t.mkdir("modprobe.d");
    const std::string path = dir + "/xen-autoload-deny.conf";
    const std::string other = dir + "/other.conf";
    std::ofstream(other) << "blacklist a\n";
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(out[0]);
        const int flags = CLONE_NEWNS | (::geteuid() == 0 ? 0 : CLONE_NEWUSER);
        if (::unshare(flags) < 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
            ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) < 0 ||
            ::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0)
            ::_exit(77);
        std::string report = write_deny_list(path, "").value_or("none") + "\n";
        report += write_deny_list(other, "").value_or("none") + "\n";
        report += write_deny_list(path, "blacklist a\n").value_or("none") + "\n";
        (void)!::write(out[1], report.data(), report.size());
        ::_exit(0);
    }
    ::close(out[1]);
    std::string report;
    char buf[512];
    ssize_t n = 0;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0)
        report.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no private mount namespace here";
    const std::string erofs = errno_text(EROFS);
    EXPECT_EQ(report, "none\ncannot remove " + other + ": " + erofs + "\ncannot write " + path +
                          ": " + erofs + "\n");
}

}  // namespace
}  // namespace xa
