// kconfig_config.cpp: parsing .config text, reading plain, gzip and xz files.
#include "kconfig_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "kconfig_test_util.h"

namespace xa {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

TEST(KconfigParse, StatesAndHeader) {
    auto c = parse_ok(
        "#\n# Linux/x86 6.1.192 Kernel Configuration\n#\nCONFIG_XEN=y\nCONFIG_XENFS=m\n"
        "# CONFIG_XEN_DOM0 is not set\nCONFIG_LOCALVERSION=\"-x\"\nCONFIG_OLD=n\r\n\n");
    EXPECT_EQ(c.kernel_version(), "6.1.192");
    EXPECT_EQ(c.state("XEN"), KconfigState::builtin);
    EXPECT_EQ(c.state("XENFS"), KconfigState::module);
    EXPECT_EQ(c.state("XEN_DOM0"), KconfigState::missing);
    EXPECT_EQ(c.state("OLD"), KconfigState::missing);
    EXPECT_EQ(c.state("NOT_THERE"), KconfigState::missing);
    EXPECT_EQ(c.state("LOCALVERSION"), KconfigState::value);
    EXPECT_EQ(c.value("LOCALVERSION"), "\"-x\"");
}

TEST(KconfigParse, ALaterLineOverridesAnEarlierOne) {
    // A fragment appended to a config (found by fuzz/fuzz_kconfig.cpp): the last line for a
    // symbol decides, as in the kernel's reader, also when it unsets the symbol.
    auto c = parse_ok(
        "CONFIG_XEN=y\nCONFIG_XEN_DOM0=y\nCONFIG_XENFS=y\nCONFIG_XEN_PVH=y\n"
        "# fragment\nCONFIG_XEN_DOM0=n\n# CONFIG_XENFS is not set\nCONFIG_XEN_PVH=m\n"
        "CONFIG_XEN_DOM0=m\n");
    EXPECT_EQ(c.state("XEN"), KconfigState::builtin);
    EXPECT_EQ(c.state("XEN_DOM0"), KconfigState::module);
    EXPECT_EQ(c.state("XENFS"), KconfigState::missing);
    EXPECT_EQ(c.value("XENFS"), "");
    EXPECT_EQ(c.state("XEN_PVH"), KconfigState::module);
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(parse_ok("CONFIG_A=y\nCONFIG_XEN=y\nCONFIG_XEN=n\n").state("XEN"),
              KconfigState::missing);
    // Only the exact form unsets; other comments mentioning a symbol are comments.
    auto d = parse_ok("CONFIG_XEN=y\n# CONFIG_XEN is not set, see below\n#CONFIG_XEN is not set\n");
    EXPECT_EQ(d.state("XEN"), KconfigState::builtin);
    EXPECT_EQ(error_of([] {
                  return KernelConfig::parse("CONFIG_XEN=y\n# CONFIG_XEN is not set\n", "f");
              }),
              "f: no CONFIG_ symbol set: not a kernel config");
}

TEST(KconfigParse, BadLineNamesFileLineAndValue) {
    auto parse = [](const char* text, const char* origin) {
        return error_of([&] { return KernelConfig::parse(text, origin); });
    };
    EXPECT_EQ(parse("CONFIG_A=y\nXEN=y\n", "my.config"),
              "my.config:2: not a kconfig line: 'XEN=y'");
    EXPECT_EQ(parse("CONFIG_A=\n", "f"), "f:1: not a kconfig line: 'CONFIG_A='");
    EXPECT_EQ(parse("CONFIG_A-B=y\n", "f"), "f:1: not a kconfig line: 'CONFIG_A-B=y'");
    EXPECT_EQ(parse("# only comments\n", "empty"),
              "empty: no CONFIG_ symbol set: not a kernel config");
}

TEST_F(KconfigFiles, PlainGzipAndXzGiveTheSameText) {
    const std::string text = all_required_config();
    std::string plain = write("config", text);
    write("gz.in", text);
    write("xz.in", text);
    ASSERT_EQ(std::system(("gzip -n '" + dir_ + "/gz.in'").c_str()), 0);
    ASSERT_EQ(std::system(("xz '" + dir_ + "/xz.in'").c_str()), 0);
    for (const std::string& path : {plain, dir_ + "/gz.in.gz", dir_ + "/xz.in.xz"}) {
        const ConfigText t = read_config_file(path);
        EXPECT_EQ(t.text, text) << path;
        EXPECT_EQ(t.origin, path);
    }
}

TEST_F(KconfigFiles, CorruptGzipAndMissingFileAreOneLineErrors) {
    write("bad.in", all_required_config());
    ASSERT_EQ(std::system(("gzip -n '" + dir_ + "/bad.in'").c_str()), 0);
    std::string bad = dir_ + "/bad.in.gz";
    ASSERT_EQ(truncate(bad.c_str(), 40), 0);  // cut the deflate stream
    const std::string error = error_of([&] { return read_config_file(bad); });
    EXPECT_EQ(error.rfind(bad + ": cannot decompress: gzip -dc failed", 0), 0u) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);

    EXPECT_EQ(error_of([&] { return read_config_file(dir_ + "/nope"); }),
              dir_ + "/nope: cannot open: No such file or directory (ENOENT)");
}

TEST_F(KconfigFiles, FifoAndDeviceAreRefusedNotWaitedFor) {
    const std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
    EXPECT_EQ(error_of([&] { return read_config_file(fifo); }),
              fifo + ": cannot read: FIFO, not a regular file");
    EXPECT_EQ(error_of([] { return read_config_file("/dev/zero"); }),
              "/dev/zero: cannot read: character device, not a regular file");
}
}  // namespace
}  // namespace xa
