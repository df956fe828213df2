// The loader: executes a plan's "load" entries, dependencies first, independent modules in
// parallel. Insertion goes through an Inserter (the real one: libkmod's
// kmod_module_probe_insert_module, one libkmod context per worker thread because a context
// is not thread-safe; a fake in unit tests).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deadlines.h"
#include "plan.h"

namespace xa {

class SysRoot;

struct InsertOutcome {
    int err = 0;               // 0 or a positive errno
    bool blacklisted = false;  // libkmod refused: blacklisted in modprobe.d
    // A modprobe.d "install" command (of the module or a dependency/softdep) failed: libkmod
    // reports that as an error code too, which is not the kernel's errno.
    bool install_failed = false;
    std::string install_command;  // the command line run (after $CMDLINE_OPTS)
    int install_status = -1;      // its exit status; -1 when it did not exit normally
    int install_signal = 0;       // the signal that killed it, or 0
};

// The one-line message for a failed install command, without the module prefix:
// "install command '/bin/false' failed with exit status 1".
std::string install_failure_text(const InsertOutcome& out);

class Inserter {
  public:
    virtual ~Inserter() = default;
    // Inserts MODULE (kernel spelling) with its dependencies; loaded already counts as success.
    virtual InsertOutcome insert(const std::string& module) = 0;
};

// Called once per worker thread.
using InserterFactory = std::function<std::unique_ptr<Inserter>()>;

// libkmod: modprobe.d options, softdeps, install commands and blacklist honoured.
InserterFactory kmod_inserter_factory(const SysRoot& root, const std::string& kver);

// True when the test suite's insertion shim is preloaded (tests/shim/insert_shim.c: it
// answers finit_module and init_module itself and defines the symbol
// xa_testsuite_insertion_shim): no insertion reaches the kernel, so a real `load` may run
// against a fixture root. Never true otherwise.
bool module_insertion_simulated();

enum class LoadStatus { inserted, present, skipped, failed, would_load };
const char* load_status_name(LoadStatus s);

struct LoadResult {
    std::string requested;
    std::string name;
    bool optional = false;
    LoadStatus status = LoadStatus::skipped;
    int err = 0;  // errno when failed
    std::string
        message;  // one line: "xen-pciback: No such device (ENODEV): not the initial domain"
    double milliseconds = 0;
    bool counts_as_failure = false;  // a required module that is not present
    bool warn = false;               // worth a warning (optional missing, legacy name, blacklisted)
};

struct LoadOptions {
    unsigned jobs = 0;  // 0: number of CPUs (at most 8)
    bool dry_run = false;
    // A module's init can hang in the kernel; report and move on after this.
    std::chrono::milliseconds deadline{deadlines::kModule};
};

struct LoadReport {
    Role role = Role::none;
    std::string kernel;
    std::vector<LoadResult> results;  // plan order
    bool timed_out = false;           // workers still stuck in the kernel (detached; they own
                                      // their state): the caller's process ends at once
    // pciback-hide (engine.cpp's load_plan; empty from execute_plan).
    PciHideReport pci_hide;
    bool ok() const;  // every required module present, every matched device hidden
};

LoadReport execute_plan(const Plan& plan, const InserterFactory& factory, const LoadOptions& opts);

// Why a module refused, in words, for the one-line message ("not the initial domain").
std::string explain_errno(const std::string& module, int err);

}  // namespace xa
