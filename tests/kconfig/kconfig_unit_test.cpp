// Unit tests of check-kernel: parsing, role evaluation, rendering, decompression.
// Small inline configs here; the real Debian and kernel configs are in kconfig_real_test.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "kconfig_check.h"
#include "kconfig_config.h"
#include "kconfig_roles.h"

namespace xa {
namespace {

KernelConfig parse_ok(const std::string& text) {
    try {
        return KernelConfig::parse(text, "test.config");
    } catch (const ConfigError& e) {
        ADD_FAILURE() << e.what();
        return KernelConfig::parse("CONFIG_DUMMY=y\n", "x");
    }
}

// The ConfigError message of WORK, "" when it throws none.
template <typename Work>
std::string error_of(Work work) {
    try {
        (void)work();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

// Every symbol of every role's required list, as a config where all of them are y.
std::string all_required_config() {
    std::string text = "# Linux/x86 6.1.192 Kernel Configuration\n";
    for (const auto& role : kconfig_roles())
        for (const auto& req : role.required)
            for (auto s : req.any_of) text += "CONFIG_" + std::string(s) + "=y\n";
    return text;
}

std::string without(std::string text, const std::string& symbol) {
    std::string line = "CONFIG_" + symbol + "=y\n";
    for (std::size_t pos; (pos = text.find(line)) != std::string::npos;)
        text.erase(pos, line.size());
    return text;
}

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

TEST(KconfigRoles, EveryRoleWorksWhenEverythingIsOn) {
    auto v = check_kernel_config(parse_ok(all_required_config()), "all");
    ASSERT_EQ(v.roles.size(), 7u);
    for (const auto& r : v.roles) EXPECT_TRUE(r.works) << r.name;
    EXPECT_EQ(v.role("domU")->working_roles,
              (std::vector<std::string>{"domU-pv", "domU-pvh", "domU-hvm"}));
}

TEST(KconfigRoles, MissingDom0SymbolBreaksOnlyDom0) {
    auto v = check_kernel_config(parse_ok(without(all_required_config(), "XEN_DOM0")), "t");
    EXPECT_FALSE(v.role("dom0")->works);
    ASSERT_EQ(v.role("dom0")->problems.size(), 1u);
    EXPECT_EQ(v.role("dom0")->problems[0].rfind("CONFIG_XEN_DOM0 missing", 0), 0u);
    EXPECT_TRUE(v.role("domU")->works);
    EXPECT_TRUE(v.role("driver-domain")->works);
}

TEST(KconfigRoles, DomUNeedsOneGuestTypeAndDriverDomainNeedsDomU) {
    std::string text = all_required_config();
    for (auto s : {"XEN_PV", "XEN_PVH", "XEN_PVHVM_GUEST"}) text = without(text, s);
    auto v = check_kernel_config(parse_ok(text), "t");
    EXPECT_FALSE(v.role("domU-pv")->works);
    EXPECT_FALSE(v.role("domU-pvh")->works);
    EXPECT_FALSE(v.role("domU-hvm")->works);
    EXPECT_FALSE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->problems,
              (std::vector<std::string>{"none of domU-pv, domU-pvh, domU-hvm works"}));
    EXPECT_FALSE(v.role("driver-domain")->works);
    EXPECT_EQ(v.role("driver-domain")->problems, (std::vector<std::string>{"domU does not work"}));
    // PVH alone is enough for domU.
    v = check_kernel_config(parse_ok(text + "CONFIG_XEN_PVH=y\n"), "t");
    EXPECT_TRUE(v.role("domU")->works);
    EXPECT_EQ(v.role("domU")->working_roles, (std::vector<std::string>{"domU-pvh"}));
}

TEST(KconfigRoles, AlternativesAnyOneSuffices) {
    std::string text = all_required_config();
    for (auto s : {"XEN_NETDEV_BACKEND", "XEN_BLKDEV_BACKEND", "XEN_SCSI_BACKEND"})
        text = without(text, s);
    auto v = check_kernel_config(parse_ok(text + "CONFIG_XEN_SCSI_BACKEND=m\n"), "t");
    const auto& dd = *v.role("driver-domain");
    EXPECT_TRUE(dd.works);
    bool seen = false;
    for (const auto& e : dd.required)
        if (e.symbols.size() == 3) {
            seen = true;
            EXPECT_EQ(e.satisfied_by, "XEN_SCSI_BACKEND");
            EXPECT_EQ(e.state, KconfigState::module);
        }
    EXPECT_TRUE(seen);
    v = check_kernel_config(parse_ok(text), "t");
    EXPECT_FALSE(v.role("driver-domain")->works);
}

TEST(KconfigRoles, NativeOnlyNeedsBasics) {
    auto v = check_kernel_config(
        parse_ok("CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_SYSFS=y\nCONFIG_PROC_FS=y\n"
                 "CONFIG_DEVTMPFS=y\n"),
        "t");
    EXPECT_TRUE(v.role("native")->works);
    for (const auto& r : v.roles) {
        if (r.name != "native") {
            EXPECT_FALSE(r.works) << r.name;
        }
    }
}

TEST(KconfigRender, ColourRule) {
    EXPECT_TRUE(kconfig_use_colour(true, nullptr));
    EXPECT_TRUE(kconfig_use_colour(true, ""));
    EXPECT_FALSE(kconfig_use_colour(true, "1"));
    EXPECT_FALSE(kconfig_use_colour(false, nullptr));
}

TEST(KconfigRender, TextAndJson) {
    auto v = check_kernel_config(parse_ok(without(all_required_config(), "XEN_DOM0")), "f");
    std::string plain = kconfig_verdict_text(v, "dom0", false);
    EXPECT_NE(plain.find("Kernel config: f (Linux 6.1.192)"), std::string::npos);
    EXPECT_NE(plain.find("dom0 (Xen dom0 (the initial domain, PV)): CANNOT WORK"),
              std::string::npos);
    EXPECT_NE(plain.find("    CONFIG_XEN_DOM0: missing ("), std::string::npos);
    EXPECT_EQ(plain.find("domU-pv"), std::string::npos);  // only the asked role
    EXPECT_EQ(plain.find('\033'), std::string::npos);
    std::string coloured = kconfig_verdict_text(v, "", true);
    EXPECT_NE(coloured.find("\033[31mCANNOT WORK\033[0m"), std::string::npos);
    EXPECT_NE(coloured.find("domU-pv"), std::string::npos);

    auto j = kconfig_verdict_json(v, "dom0");
    EXPECT_EQ(j["role"], "dom0");
    EXPECT_EQ(j["works"], false);
    EXPECT_EQ(j["kernel_version"], "6.1.192");
    EXPECT_EQ(j["roles"].size(), 7u);
    EXPECT_EQ(j["roles"]["domU"]["works"], true);
    EXPECT_EQ(j["roles"]["dom0"]["required"][0]["symbols"][0], "CONFIG_XEN");
    EXPECT_EQ(j["roles"]["dom0"]["required"][0]["state"], "enabled");
    EXPECT_TRUE(kconfig_verdict_json(v, "")["role"].is_null());
    EXPECT_EQ(kconfig_verdict_json(v, "")["works"], true);
}

TEST(KconfigRender, KernelVersionIsEscapedInText) {
    // The header's version is file contents (found by fuzz/fuzz_kconfig.cpp): a terminal
    // escape or a newline in it must not reach the text output raw; JSON keeps the bytes.
    auto v = check_kernel_config(
        parse_ok("# Linux/x86 6.1\x1b[2J\t Kernel Configuration\nCONFIG_XEN=y\n"), "f");
    EXPECT_EQ(v.kernel_version, "6.1\x1b[2J\t");
    const std::string text = kconfig_verdict_text(v, "", false);
    EXPECT_NE(text.find("Kernel config: f (Linux 6.1\\x1b[2J\\x09)\n"), std::string::npos) << text;
    EXPECT_EQ(text.find('\033'), std::string::npos);
    EXPECT_EQ(text.find('\t'), std::string::npos);
    EXPECT_EQ(kconfig_verdict_json(v, "")["kernel_version"], "6.1\x1b[2J\t");
}

class KconfigFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/xa-kconfig-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::string cmd = "rm -rf '" + dir_ + "'";
        ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
    std::string write(const std::string& name, const std::string& text) {
        std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
    std::string dir_;
};

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

TEST_F(KconfigFiles, CheckKernelOutcomes) {
    std::string cfg = write("c", without(all_required_config(), "XEN_DOM0"));
    EXPECT_EQ(check_kernel({cfg, "dom0", false, false}).outcome, Outcome::failed);
    EXPECT_EQ(check_kernel({cfg, "domU", false, false}).outcome, Outcome::ok);
    EXPECT_EQ(check_kernel({cfg, "", false, false}).outcome, Outcome::ok);
    const std::string unknown = error_of([&] { return check_kernel({cfg, "dom1", false, false}); });
    EXPECT_NE(unknown.find("unknown kernel role 'dom1' (native, dom0"), std::string::npos)
        << unknown;
    std::string garbage = write("g", "hello\n");
    EXPECT_EQ(error_of([&] {
                  return check_kernel({garbage, "", true, false});
              }),
              garbage + ":1: not a kconfig line: 'hello'");
    const auto json = check_kernel({cfg, "dom0", true, false});
    EXPECT_EQ(json.outcome, Outcome::failed);
    auto j = nlohmann::json::parse(json.report);
    EXPECT_EQ(j["works"], false);
    EXPECT_EQ(j["config"], cfg);
}

TEST_F(KconfigFiles, FifoAndDeviceAreRefusedNotWaitedFor) {
    const std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
    EXPECT_EQ(error_of([&] { return read_config_file(fifo); }),
              fifo + ": cannot read: FIFO, not a regular file");
    EXPECT_EQ(error_of([] { return read_config_file("/dev/zero"); }),
              "/dev/zero: cannot read: character device, not a regular file");
}

TEST_F(KconfigFiles, JsonWithANonUtf8FileNameDoesNotThrow) {
    const std::string cfg = write("caf\xe9", all_required_config());
    const auto r = check_kernel({cfg, "", true, false});
    EXPECT_EQ(r.outcome, Outcome::ok);
    const auto j = nlohmann::json::parse(r.report);
    EXPECT_EQ(j["config"], dir_ + "/caf\xef\xbf\xbd");  // U+FFFD
}

// Each missing symbol is printed once (in the required list, not also as a problem line),
// and the JSON's top-level "works" is false when no role works.
TEST_F(KconfigFiles, NoRoleWorksIsNotWorksAndFailuresArePrintedOnce) {
    const std::string cfg = write("min", "CONFIG_X86_64=y\n");
    const auto text = check_kernel({cfg, "", false, false});
    EXPECT_EQ(text.outcome, Outcome::ok);
    const std::string& out = text.report;
    std::size_t n = 0;
    for (std::size_t at = out.find("CONFIG_XEN_DOM0"); at != std::string::npos;
         at = out.find("CONFIG_XEN_DOM0", at + 1))
        ++n;
    EXPECT_EQ(n, 1U) << out;
    const auto json = check_kernel({cfg, "", true, false});
    EXPECT_EQ(json.outcome, Outcome::ok);
    const auto j = nlohmann::json::parse(json.report);
    EXPECT_TRUE(j["role"].is_null());
    EXPECT_EQ(j["works"], false);
}

}  // namespace
}  // namespace xa
