// tools/options.cpp through the built binary: every subcommand's --help lists exactly its
// options, one message format names the option, the shared checks and guards hold for every
// subcommand that takes the option.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace xa {
namespace {

using test::run_cli;

const std::map<std::string, std::vector<std::string>> kTakes = {
    {"detect", {"--json", "--root DIR", "--vendor-dir DIR"}},
    {"plan", {"--json", "--root DIR", "--vendor-dir DIR", "--role ROLE", "--kernel RELEASE"}},
    {"load",
     {"--json", "--root DIR", "--vendor-dir DIR", "--role ROLE", "--dry-run", "--jobs N",
      "--deny-file PATH"}},
    {"status", {"--json", "--root DIR", "--vendor-dir DIR", "--role ROLE"}},
    {"daemon",
     {"--root DIR", "--vendor-dir DIR", "--dry-run", "--jobs N", "--deny-file PATH",
      "--deadline SECONDS", "--once", "--debug"}},
    {"udev", {"--root DIR", "--vendor-dir DIR", "--dry-run"}},
    {"check-kernel", {"--json", "--config FILE", "--kernel-role ROLE"}},
};

const std::vector<std::string> kEvery = {
    "--json",    "--root DIR",    "--vendor-dir DIR",  "--role ROLE",        "--kernel RELEASE",
    "--dry-run", "--jobs N",      "--deny-file PATH",  "--deadline SECONDS", "--once",
    "--debug",   "--config FILE", "--kernel-role ROLE"};

TEST(Options, HelpOfEverySubcommandListsExactlyItsOptions) {
    for (const auto& [cmd, takes] : kTakes) {
        for (const char* help : {"--help", "-h"}) {
            const auto r = run_cli({cmd, help});
            EXPECT_EQ(r.exit_code, 0) << cmd << " " << help;
            EXPECT_EQ(r.out.rfind("usage: xen-autoload " + cmd + " ", 0), 0U) << r.out;
            EXPECT_NE(r.out.find("-h, --help"), std::string::npos) << r.out;
            for (const std::string& o : kEvery) {
                const bool taken = std::find(takes.begin(), takes.end(), o) != takes.end();
                EXPECT_EQ(r.out.find("  " + o) != std::string::npos, taken)
                    << cmd << " " << o << "\n"
                    << r.out;
            }
        }
    }
}

TEST(Options, OneMessageFormatNamingTheOption) {
    auto r = run_cli({"plan", "--role", "x"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "xen-autoload plan: --role: unknown role 'x' (dom0, domU, driver-domain, none) (see "
              "xen-autoload plan --help)\n");
    r = run_cli({"load", "--dry-run", "--jobs", "65"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("load: --jobs: not a number from 1 to 64: '65'"), std::string::npos)
        << r.err;
    r = run_cli({"daemon", "--jobs", "0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("daemon: --jobs: not a number from 1 to 64: '0'"), std::string::npos)
        << r.err;
    r = run_cli({"status", "--root"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("status: --root: missing value"), std::string::npos) << r.err;
    r = run_cli({"detect", "--frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("detect: '--frobnicate': unknown option"), std::string::npos) << r.err;
    r = run_cli({"check-kernel", "--kernel-role", "dom7"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("check-kernel: --kernel-role: unknown role 'dom7' (native, dom0"),
              std::string::npos)
        << r.err;
    r = run_cli({"udev"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("udev: expected MODALIAS [DEVPATH]"), std::string::npos) << r.err;
}

// The same check of --root and --vendor-dir for every subcommand that takes them.
TEST(Options, RootAndVendorDirCheckedForEverySubcommand) {
    for (const char* cmd : {"detect", "plan", "load", "status", "daemon", "udev"}) {
        auto r = run_cli({cmd, "--dry-run", "--vendor-dir", "/nonexistent/xa", "xen-backend:vif"});
        if (std::string(cmd) == "detect" || std::string(cmd) == "plan" ||
            std::string(cmd) == "status")
            r = run_cli({cmd, "--vendor-dir", "/nonexistent/xa"});
        EXPECT_EQ(r.exit_code, 2) << cmd << r.err;
        EXPECT_NE(r.err.find("--vendor-dir: no such directory: '/nonexistent/xa'"),
                  std::string::npos)
            << cmd << r.err;
        r = run_cli({cmd, "--root", "/nonexistent/xa"});
        EXPECT_EQ(r.exit_code, 2) << cmd << r.err;
        EXPECT_NE(r.err.find("--root: not a readable directory: '/nonexistent/xa'"),
                  std::string::npos)
            << cmd << r.err;
    }
}

// xen-autoload(8) documents every option that exists, under OPTIONS.
TEST(Options, ManPageListsEveryOption) {
    const std::string man = test::read_file(std::string(XA_SOURCE_DIR) + "/man/xen-autoload.8");
    const std::string options = man.substr(man.find(".SH OPTIONS"));
    for (const std::string& o : kEvery) {
        std::string name = o.substr(0, o.find(' '));
        std::string roff;
        for (const char c : name) roff += c == '-' ? std::string("\\-") : std::string(1, c);
        EXPECT_NE(options.find(roff), std::string::npos) << name;
    }
}

// check-kernel's old spelling of --kernel-role still works (scripts may use it).
TEST(Options, CheckKernelTakesRoleAsTheOldSpellingOfKernelRole) {
    test::TempDir t;
    const std::string cfg = t.write("config", "CONFIG_X86_64=y\n");
    const auto a = run_cli({"check-kernel", "--config", cfg, "--role", "dom0"});
    const auto b = run_cli({"check-kernel", "--config", cfg, "--kernel-role", "dom0"});
    EXPECT_EQ(a.exit_code, 1) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(a.exit_code, b.exit_code);
}

// load, daemon and udev: one guard, one wording.
TEST(Options, InsertionUnderRootNeedsDryRun) {
    const std::string root = test::fixture("pv-dom0-before-xenfs");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"load", "--root", root},
          std::vector<std::string>{"daemon", "--root", root},
          std::vector<std::string>{"udev", "--root", root, "xen-backend:vif"}}) {
        const auto r = run_cli(args);
        EXPECT_EQ(r.exit_code, 3) << args[0] << r.err;
        EXPECT_EQ(r.err, "xen-autoload: error: " + args[0] + " under --root '" + root +
                             "' only with --dry-run: modules go into the running kernel\n");
    }
}

}  // namespace
}  // namespace xa
