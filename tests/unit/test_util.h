// Helpers shared by the tests: temporary trees, running the CLI.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace xa::test {

inline std::string fixture(const std::string& name) {
    return std::string(XA_FIXTURES) + "/" + name;
}

// A temporary directory removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "xa-test-XXXXXX").string();
        if (::mkdtemp(t.data()) == nullptr) std::abort();
        path_ = t;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    // Writes REL (creating directories) with CONTENT; returns the full path.
    std::string write(const std::string& rel, const std::string& content) const {
        const std::filesystem::path p = std::filesystem::path(path_) / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
    std::string mkdir(const std::string& rel) const {
        const std::filesystem::path p = std::filesystem::path(path_) / rel;
        std::filesystem::create_directories(p);
        return p.string();
    }

  private:
    std::string path_;
};

// The whole of file PATH ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

struct CliResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs the built xen-autoload with ARGS (no shell) and ENV added to its environment,
// capturing stdout and stderr.
inline CliResult run_cli(const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& env = {}) {
    CliResult r;
    TempDir tmp;
    const std::string out = tmp.path() + "/out";
    const std::string err = tmp.path() + "/err";
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::freopen(out.c_str(), "w", stdout);
        std::freopen(err.c_str(), "w", stderr);
        ::unsetenv("JOURNAL_STREAM");  // logs on stderr, where the test reads them
        for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
        std::vector<char*> argv;
        std::string cli = XA_CLI;
        argv.push_back(cli.data());
        std::vector<std::string> copy = args;
        for (std::string& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(cli.c_str(), argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

}  // namespace xa::test
