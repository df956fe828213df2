// check-kernel on real configs, through the real CLI: Debian's amd64 (everything),
// Debian's cloud-amd64 (no dom0), x86_64_defconfig (no Xen), and our merged configs.
// The fixture kconfig.fetch-configs (fetch-test-configs.sh) puts them in XA_KCONFIG_DIR;
// a missing file is a failure, not a skip.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct CliRun {
    int exit_code = -1;
    std::string out;
};

// The CLI with fixed arguments (paths from the build, no data from outside the test).
CliRun run_cli(const std::string& args) {
    CliRun r;
    std::string cmd = std::string(XA_CLI) + " check-kernel " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string config(const std::string& name) {
    std::string path = std::string(XA_KCONFIG_DIR) + "/" + name;
    EXPECT_TRUE(std::filesystem::is_regular_file(path))
        << path << " missing: the kconfig.fetch-configs fixture did not produce it";
    return path;
}

nlohmann::json verdict(const std::string& path) {
    CliRun r = run_cli("--json --config " + path);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
}

const char* const kAllRoles[] = {"native",   "dom0",     "domU",         "domU-pv",
                                 "domU-pvh", "domU-hvm", "driver-domain"};

void expect_all_roles_work(const std::string& name) {
    std::string path = config(name);
    auto j = verdict(path);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["kernel_version"], "6.1.192") << name;
    // An x86 config: Arm's guest is not a role there (stage arm64 judges Debian's arm64 one).
    EXPECT_EQ(j["arch"], "x86") << name;
    EXPECT_EQ(j["roles"]["domU-arm"]["applies"], false) << name;
    for (const char* role : kAllRoles) {
        EXPECT_EQ(j["roles"][role]["works"], true) << name << " " << role;
        CliRun r = run_cli("--role " + std::string(role) + " --config " + path);
        EXPECT_EQ(r.exit_code, 0) << name << " " << role << "\n" << r.out;
    }
}

TEST(KconfigReal, DebianAmd64SupportsEveryRole) { expect_all_roles_work("debian-amd64.config"); }

TEST(KconfigReal, MergedSmallSupportsEveryRole) { expect_all_roles_work("merged-small.config"); }

TEST(KconfigReal, MergedDebianSupportsEveryRole) { expect_all_roles_work("merged-debian.config"); }

TEST(KconfigReal, DebianCloudHasNoDom0AndSaysSo) {
    std::string path = config("debian-cloud-amd64.config");
    CliRun r = run_cli("--role dom0 --config " + path);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("dom0 (Xen dom0 (the initial domain: PV on x86)): CANNOT WORK"),
              std::string::npos)
        << r.out;
    // Each problem once, in its place in the role's table.
    EXPECT_NE(
        r.out.find("    CONFIG_XEN_DOM0: missing (support for running as the initial domain)"),
        std::string::npos)
        << r.out;
    auto j = verdict(path);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["roles"]["dom0"]["works"], false);
    EXPECT_EQ(j["roles"]["dom0"]["problems"].size(), 1u) << j["roles"]["dom0"]["problems"];
    for (const char* role : {"native", "domU", "domU-pv", "domU-pvh", "domU-hvm", "driver-domain"})
        EXPECT_EQ(j["roles"][role]["works"], true) << role;
    EXPECT_EQ(run_cli("--role domU --config " + path).exit_code, 0);
    EXPECT_EQ(run_cli("--role driver-domain --config " + path).exit_code, 0);
}

TEST(KconfigReal, X86DefconfigHasNoXen) {
    std::string path = config("x86_64_defconfig.config");
    auto j = verdict(path);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["roles"]["native"]["works"], true);
    for (const char* role : {"dom0", "domU", "domU-pv", "domU-pvh", "domU-hvm", "driver-domain"}) {
        EXPECT_EQ(j["roles"][role]["works"], false) << role;
        CliRun r = run_cli("--role " + std::string(role) + " --config " + path);
        EXPECT_EQ(r.exit_code, 1) << role << "\n" << r.out;
    }
    EXPECT_EQ(j["roles"]["dom0"]["required"][0]["symbols"][0], "CONFIG_XEN");
    EXPECT_EQ(j["roles"]["dom0"]["required"][0]["state"], "missing");
}

TEST(KconfigReal, CompressedConfigReadsTheSame) {
    // Debian ships the config xz-compressed in linux-config-6.1; the fixture keeps a copy.
    auto plain = verdict(config("debian-cloud-amd64.config"));
    auto xz = verdict(config("debian-cloud-amd64.config.xz"));
    ASSERT_TRUE(plain.is_object());
    ASSERT_TRUE(xz.is_object());
    plain.erase("config");
    xz.erase("config");
    EXPECT_EQ(plain, xz);
}

}  // namespace
