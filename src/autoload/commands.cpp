// detect, plan, load, status: option parsing and output only; the work is in the library.
#include "commands.h"

#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "deadlines.h"
#include "deny_list.h"
#include "engine.h"
#include "json_text.h"
#include "log.h"
#include "number.h"
#include "report.h"
#include "sysfs_parse.h"
#include "text_escape.h"

namespace xa {
namespace {

struct Options {
    bool json = false;
    bool dry_run = false;
    std::string root;
    std::optional<Role> role;
    unsigned jobs = 0;
    std::string vendor_dir;
    std::optional<std::string> kernel;
};

enum OptionId {
    opt_json = 1000,
    opt_root,
    opt_role,
    opt_dry_run,
    opt_jobs,
    opt_vendor_dir,
    opt_kernel,
    opt_help
};

// Which options a subcommand takes.
enum : unsigned { k_json = 1, k_root = 2, k_role = 4, k_dry_run = 8, k_jobs = 16, k_kernel = 32 };

void usage_error(const char* cmd, const std::string& what) {
    std::fprintf(stderr, "xen-autoload %s: %s (see xen-autoload --help)\n", cmd, what.c_str());
}

// Returns -1 to go on, else an exit code.
int parse(int argc, char** argv, unsigned allowed, const char* synopsis, Options& o) {
    static const option kLong[] = {
        {"json", no_argument, nullptr, opt_json},
        {"root", required_argument, nullptr, opt_root},
        {"role", required_argument, nullptr, opt_role},
        {"dry-run", no_argument, nullptr, opt_dry_run},
        {"jobs", required_argument, nullptr, opt_jobs},
        {"vendor-dir", required_argument, nullptr, opt_vendor_dir},
        {"kernel", required_argument, nullptr, opt_kernel},
        {"help", no_argument, nullptr, opt_help},
        {nullptr, 0, nullptr, 0},
    };
    const char* cmd = argv[0];
    optind = 1;
    opterr = 0;
    for (;;) {
        int long_index = -1;
        const int c = getopt_long(argc, argv, "+", kLong, &long_index);
        if (c == -1) break;
        auto refuse = [&](unsigned bit) {
            if (allowed & bit) return false;
            // The option's own name: with a value ("--role dom0") argv[optind - 1] is the value.
            const std::string name = long_index >= 0 ? std::string("--") + kLong[long_index].name
                                                     : std::string(argv[optind - 1]);
            usage_error(cmd, "option not taken by this command: " + quote_text(name));
            return true;
        };
        switch (c) {
            case opt_json:
                if (refuse(k_json)) return kExitUsage;
                o.json = true;
                break;
            case opt_root:
                if (refuse(k_root)) return kExitUsage;
                if (optarg[0] == '\0') {
                    usage_error(cmd, "--root: empty directory name");
                    return kExitUsage;
                }
                o.root = optarg;
                break;
            case opt_role:
                if (refuse(k_role)) return kExitUsage;
                o.role = parse_role(optarg);
                if (!o.role) {
                    usage_error(
                        cmd,
                        std::string("--role: unknown role (dom0, domU, driver-domain, none): '") +
                            optarg + "'");
                    return kExitUsage;
                }
                break;
            case opt_dry_run:
                if (refuse(k_dry_run)) return kExitUsage;
                o.dry_run = true;
                break;
            case opt_jobs: {
                if (refuse(k_jobs)) return kExitUsage;
                const auto n = parse_unsigned(optarg, 1, 64);
                if (!n) {
                    usage_error(cmd,
                                std::string("--jobs: a number from 1 to 64: '") + optarg + "'");
                    return kExitUsage;
                }
                o.jobs = *n;
                break;
            }
            case opt_vendor_dir: {
                // Made absolute: it is not below --root.
                char* abs = ::realpath(optarg, nullptr);
                if (abs == nullptr) {
                    usage_error(cmd,
                                std::string("--vendor-dir: no such directory: '") + optarg + "'");
                    return kExitUsage;
                }
                o.vendor_dir = abs;
                std::free(abs);
                break;
            }
            case opt_kernel:
                if (refuse(k_kernel)) return kExitUsage;
                o.kernel = parse_kernel_release(optarg);
                if (!o.kernel) {
                    usage_error(cmd, "--kernel: not a kernel release: " + quote_text(optarg));
                    return kExitUsage;
                }
                break;
            case opt_help:
                std::printf("usage: xen-autoload %s\n", synopsis);
                return kExitOk;
            default:
                usage_error(cmd, std::string("unknown option or missing value: '") +
                                     argv[optind - 1] + "'");
                return kExitUsage;
        }
    }
    if (optind < argc) {
        usage_error(cmd, std::string("unexpected argument: '") + argv[optind] + "'");
        return kExitUsage;
    }
    if (!o.root.empty() && ::access(o.root.c_str(), R_OK | X_OK) != 0) {
        usage_error(cmd, "--root: not a readable directory: '" + o.root + "'");
        return kExitUsage;
    }
    if (o.kernel) {
        const SysRoot root(o.root);
        const std::string tree = "lib/modules/" + *o.kernel;
        if (!root.exists(tree)) {
            usage_error(cmd, "--kernel: no module tree " + quote_text(root.path(tree)));
            return kExitUsage;
        }
    }
    return -1;
}

PolicyDirs policy_dirs(const Options& o) {
    PolicyDirs d = default_policy_dirs();
    d.vendor_override = o.vendor_dir;
    return d;
}

void print_json(const nlohmann::ordered_json& j) { std::printf("%s\n", json_text(j).c_str()); }

// prepare() with the CLI's error handling; nullopt with EXIT set on error.
std::optional<Context> prepare_or_report(const Options& o, int& exit_code) {
    try {
        return prepare(SysRoot(o.root), o.role, policy_dirs(o), o.kernel);
    } catch (const ConfigError& e) {
        log_error(e.what());
        exit_code = kExitUsage;
    } catch (const std::exception& e) {
        log_error(e.what());
        exit_code = kExitFailed;
    }
    return std::nullopt;
}

// plan and status: the same read-only steps, each its own view of the plan.
struct PlanView {
    nlohmann::ordered_json (*json)(const Plan&);
    std::string (*text)(const Plan&);
    int (*exit_code)(const Plan&);
};

int show_plan(int argc, char** argv, unsigned allowed, const char* synopsis, const PlanView& view) {
    Options o;
    if (const int rc = parse(argc, argv, allowed, synopsis, o); rc >= 0) return rc;
    int exit_code = kExitOk;
    const auto ctx = prepare_or_report(o, exit_code);
    if (!ctx) return exit_code;
    try {
        const Plan plan = make_plan_for(*ctx);
        if (o.json)
            print_json(view.json(plan));
        else
            std::fputs(view.text(plan).c_str(), stdout);
        return view.exit_code(plan);
    } catch (const ConfigError& e) {  // a --root tree unfit for libkmod
        log_error(e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        log_error(e.what());
        return kExitFailed;
    }
}

}  // namespace

int cmd_detect(int argc, char** argv) {
    Options o;
    if (const int rc = parse(argc, argv, k_json | k_root, "detect [--json] [--root DIR]", o);
        rc >= 0)
        return rc;
    const SysRoot root(o.root);
    Platform p = detect(root);
    bool driver_domain = false;
    try {
        driver_domain = load_policy(root, policy_dirs(o)).driver_domain;
    } catch (const ConfigError& e) {
        // detect still answers: the policy only adds driver-domain mode.
        p.evidence.push_back({"policy", std::string("ignored: ") + e.what()});
    }
    if (o.json)
        print_json(platform_json(p, driver_domain));
    else
        std::fputs(platform_text(p, driver_domain).c_str(), stdout);
    return kExitOk;
}

int cmd_plan(int argc, char** argv) {
    return show_plan(argc, argv, k_json | k_root | k_role | k_kernel,
                     "plan [--json] [--root DIR] [--role ROLE] [--kernel RELEASE]",
                     {plan_json, plan_text, [](const Plan&) { return kExitOk; }});
}

int cmd_load(int argc, char** argv) {
    Options o;
    const std::string synopsis =
        "load [--dry-run] [--jobs N] [--role ROLE] [--root DIR (with --dry-run)] [--json]\n"
        "  each module's insertion has a deadline of " +
        std::to_string(deadlines::kModule.count()) + " s";
    if (const int rc =
            parse(argc, argv, k_json | k_root | k_role | k_dry_run | k_jobs, synopsis.c_str(), o);
        rc >= 0)
        return rc;
    if (!o.root.empty() && !o.dry_run) {
        log_error("load under --root " + o.root +
                  " only with --dry-run: modules go into the running kernel");
        return kExitNotPermitted;
    }
    if (!o.dry_run && ::geteuid() != 0) {
        log_error("load needs root (CAP_SYS_MODULE); use --dry-run to see what would load");
        return kExitNotPermitted;
    }
    int exit_code = kExitOk;
    const auto ctx = prepare_or_report(o, exit_code);
    if (!ctx) return exit_code;
    LoadReport report;
    try {
        // The deny list first, as the daemon writes it: in the initramfs this puts it in
        // /run before any udevd starts, and /run moves to the real root, so every udevd's
        // kmod context reads it from its start (a later-created directory goes unnoticed).
        if (!o.dry_run) {
            const std::string err = write_deny_list_for(*ctx, kDenyListPath);
            if (!err.empty()) log_warning("load: " + err, {{}, role_name(ctx->role), 0});
        }
        const Plan plan = make_plan_for(*ctx);
        for (const std::string& w : plan.warnings) log_warning(w, {{}, role_name(plan.role), 0});
        LoadOptions lo;
        lo.jobs = o.jobs;
        lo.dry_run = o.dry_run;
        report = load_plan(*ctx, plan, lo);
        if (ctx->role == Role::none) log_info("role none: nothing to load");
        log_load_report(report);
        if (o.json) print_json(load_json(report));
        std::fflush(stdout);
        // Workers stuck in the kernel past the deadline: leave without waiting for them.
        if (report.timed_out) std::_Exit(kExitFailed);
    } catch (const ConfigError& e) {
        log_error(e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        log_error(e.what());
        return kExitFailed;
    }
    return load_exit_code(report);
}

int cmd_status(int argc, char** argv) {
    return show_plan(
        argc, argv, k_json | k_root | k_role, "status [--json] [--root DIR] [--role ROLE]",
        {status_json, status_text,
         [](const Plan& plan) { return status_complete(plan) ? kExitOk : kExitFailed; }});
}

}  // namespace xa
