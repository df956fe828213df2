// kconfig_check.cpp: the verdict as text and JSON, and check_kernel on files. The real
// Debian and kernel configs: tests/kconfig/kconfig_real_test.cpp.
#include "kconfig_check.h"

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

TEST(KconfigRender, ColourRule) {
    EXPECT_TRUE(kconfig_use_colour(true, nullptr));
    EXPECT_TRUE(kconfig_use_colour(true, ""));
    EXPECT_FALSE(kconfig_use_colour(true, "1"));
    EXPECT_FALSE(kconfig_use_colour(false, nullptr));
}

TEST(KconfigRender, TextAndJson) {
    auto v = check_kernel_config(parse_ok(without(all_required_config(), "XEN_DOM0")), "f");
    std::string plain = kconfig_verdict_text(v, "dom0", false);
    EXPECT_NE(plain.find("Kernel config: f (Linux 6.1.192, x86)"), std::string::npos);
    EXPECT_NE(plain.find("dom0 (Xen dom0 (the initial domain: PV on x86)): CANNOT WORK"),
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
    EXPECT_EQ(j["roles"].size(), 8u);
    EXPECT_EQ(j["arch"], "x86");
    EXPECT_EQ(j["roles"]["domU-arm"]["applies"], false);
    EXPECT_EQ(j["roles"]["domU-pv"]["applies"], true);
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
    EXPECT_NE(text.find("Kernel config: f (Linux 6.1\\x1b[2J\\x09, x86)\n"), std::string::npos)
        << text;
    EXPECT_EQ(text.find('\033'), std::string::npos);
    EXPECT_EQ(text.find('\t'), std::string::npos);
    EXPECT_EQ(kconfig_verdict_json(v, "")["kernel_version"], "6.1\x1b[2J\t");
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
