// Helpers of the kernel config unit tests (kconfig_config_test.cpp, kconfig_roles_test.cpp,
// kconfig_check_test.cpp): inline configs and a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "kconfig_config.h"
#include "kconfig_roles.h"

namespace xa::test {

inline KernelConfig parse_ok(const std::string& text) {
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
inline std::string all_required_config() {
    std::string text = "# Linux/x86 6.1.192 Kernel Configuration\n";
    for (const auto& role : kconfig_roles())
        for (const auto& req : role.required)
            for (auto s : req.any_of) text += "CONFIG_" + std::string(s) + "=y\n";
    return text;
}

inline std::string without(std::string text, const std::string& symbol) {
    std::string line = "CONFIG_" + symbol + "=y\n";
    for (std::size_t pos; (pos = text.find(line)) != std::string::npos;)
        text.erase(pos, line.size());
    return text;
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

}  // namespace xa::test
