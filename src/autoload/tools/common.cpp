#include "common.h"

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "exit_codes.h"
#include "json_text.h"
#include "log.h"

namespace xa {

PolicyDirs policy_dirs(const Options& o) {
    PolicyDirs d = default_policy_dirs();
    d.vendor_override = o.vendor_dir;
    return d;
}

void print_json(const nlohmann::ordered_json& j) { std::printf("%s\n", json_text(j).c_str()); }

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

int show_plan(const Options& o, const PlanView& view) {
    int exit_code = kExitOk;
    const auto ctx = prepare_or_report(o, exit_code);
    if (!ctx) return exit_code;
    try {
        Plan plan = make_plan_for(*ctx);
        if (view.check_deny_list) plan.deny_list = check_deny_list_for(*ctx);
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

}  // namespace xa
