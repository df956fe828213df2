// SysRoot on hostile trees: confinement of symlinks to the root (openat2 and the user-space
// walk), FIFOs and devices refused without blocking, size caps.
#include "sysroot.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "test_util.h"

namespace xa {
namespace {

// Each test runs with openat2 (when the kernel has it) and with the user-space walk.
class SysRootConfined : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override { sysroot_use_openat2(GetParam()); }
    void TearDown() override { sysroot_use_openat2(true); }
};

TEST_P(SysRootConfined, AbsoluteSymlinkStaysInsideTheRoot) {
    test::TempDir outside;
    const std::string secret = outside.write("secret", "host secret\n");
    ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
    test::TempDir root;
    root.mkdir("sys/hypervisor");
    ASSERT_EQ(::symlink(secret.c_str(), (root.path() + "/sys/hypervisor/type").c_str()), 0);
    const SysRoot r(root.path());
    const ReadResult res = r.read("sys/hypervisor/type");
    EXPECT_FALSE(res.ok());
    EXPECT_EQ(res.data, "");
    // The same link target inside the root is what gets read.
    root.write(secret.substr(1), "inside\n");
    EXPECT_EQ(r.read("sys/hypervisor/type").data, "inside\n");
}

TEST_P(SysRootConfined, DotDotCannotClimbAboveTheRoot) {
    test::TempDir outside;
    outside.write("root/etc/x", "inside\n");
    outside.write("etc/x", "outside\n");
    const SysRoot r(outside.path() + "/root");
    outside.mkdir("root/sys");
    ASSERT_EQ(::symlink("../../../../../../etc/x", (outside.path() + "/root/sys/l").c_str()), 0);
    EXPECT_EQ(r.read("sys/l").data, "inside\n");
    EXPECT_EQ(r.read("../etc/x").data, "inside\n");
    int err = 0;
    EXPECT_EQ(r.resolve("sys/l", &err), outside.path() + "/root/etc/x");
}

TEST_P(SysRootConfined, SymlinkLoopIsAnError) {
    test::TempDir root;
    root.mkdir("a");
    ASSERT_EQ(::symlink("/a/l", (root.path() + "/a/l").c_str()), 0);
    const ReadResult res = SysRoot(root.path()).read("a/l");
    EXPECT_FALSE(res.ok());
    EXPECT_EQ(res.error, ELOOP);
}

TEST_P(SysRootConfined, FifoAndDeviceAreRefusedWithoutBlocking) {
    test::TempDir root;
    root.mkdir("proc");
    ASSERT_EQ(::mkfifo((root.path() + "/proc/cmdline").c_str(), 0644), 0);
    ASSERT_EQ(::symlink("/dev/zero", (root.path() + "/proc/zero").c_str()), 0);
    const SysRoot r(root.path());
    const ReadResult fifo = r.read("proc/cmdline");
    EXPECT_FALSE(fifo.ok());
    EXPECT_EQ(fifo.why(), "FIFO, not a regular file");
    // Below the root /dev/zero does not exist; on the live system it is a device.
    EXPECT_EQ(r.read("proc/zero").status, ReadResult::Status::missing);
    const ReadResult dev = SysRoot().read("/dev/zero");
    EXPECT_EQ(dev.why(), "character device, not a regular file");
    // Both as host paths too (check-kernel --config, --vendor-dir).
    EXPECT_EQ(SysRoot().read(root.path() + "/proc/cmdline").why(), "FIFO, not a regular file");
}

TEST_P(SysRootConfined, SizeCap) {
    test::TempDir root;
    root.write("f", std::string(100, 'x'));
    const SysRoot r(root.path());
    EXPECT_TRUE(r.read("f", 100).ok());
    const ReadResult big = r.read("f", 99);
    EXPECT_EQ(big.error, EFBIG);
    EXPECT_EQ(big.why(), "larger than 99 bytes");
}

TEST_P(SysRootConfined, ListDirReportsErrors) {
    test::TempDir root;
    root.write("d/b", "");
    root.write("d/a", "");
    const SysRoot r(root.path());
    int err = -1;
    EXPECT_EQ(r.list_dir("d", &err), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(err, 0);
    EXPECT_TRUE(r.list_dir("nope", &err).empty());
    EXPECT_EQ(err, ENOENT);
    EXPECT_TRUE(r.list_dir("d/a", &err).empty());
    EXPECT_EQ(err, ENOTDIR);
}

// The one write path (pciback-hide's sysfs writes): confined like reads, never creates a
// file, refuses what is not a regular file without blocking, replaces the content.
TEST_P(SysRootConfined, WriteIsConfinedAndOnlyToRegularFiles) {
    test::TempDir outside;
    const std::string victim = outside.write("victim", "untouched\n");
    test::TempDir root;
    root.write("sys/bus/pci/devices/0000:00:04.0/driver_override", "(null)\n");
    ASSERT_EQ(::symlink(victim.c_str(), (root.path() + "/sys/escape").c_str()), 0);
    ASSERT_EQ(::mkfifo((root.path() + "/sys/fifo").c_str(), 0644), 0);
    const SysRoot r(root.path());
    EXPECT_EQ(r.write("sys/bus/pci/devices/0000:00:04.0/driver_override", "pciback"), 0);
    EXPECT_EQ(test::read_file(root.path() + "/sys/bus/pci/devices/0000:00:04.0/driver_override"),
              "pciback");
    // The absolute link is read inside the root, where its target does not exist.
    EXPECT_EQ(r.write("sys/escape", "x"), ENOENT);
    EXPECT_EQ(test::read_file(victim), "untouched\n");
    EXPECT_EQ(r.write("sys/missing", "x"), ENOENT);
    EXPECT_FALSE(r.exists("sys/missing"));
    EXPECT_EQ(r.write("sys/fifo", "x"), ENXIO);  // no reader: fails at once, never blocks
    EXPECT_EQ(r.write("sys/bus", "x"), EISDIR);
}

INSTANTIATE_TEST_SUITE_P(OpenAt2AndWalk, SysRootConfined, ::testing::Bool());

// A real sysfs attribute: its st_size is a page (4096), its content a few bytes. The cap
// applies to the content (a survey of /sys/bus/pci/devices/*/class read nothing when it
// was judged by st_size: seen in a dom0 boot).
TEST(SysRootLive, SysfsAttributeIsJudgedByItsContentNotItsStatSize) {
    const char* rel = "sys/devices/system/cpu/online";
    struct stat st {};
    if (::stat((std::string("/") + rel).c_str(), &st) != 0)
        GTEST_SKIP() << "/" << rel << " missing: no sysfs mounted here";
    ASSERT_GT(st.st_size, 16) << "sysfs no longer reports a page size for attributes";
    const ReadResult r = SysRoot("/").read(rel, 16);
    ASSERT_TRUE(r.ok()) << r.why();
    EXPECT_LT(r.data.size(), 16U);
    EXPECT_EQ(r.data.back(), '\n');
}

}  // namespace
}  // namespace xa
