// What several subcommands share: the policy directories from the options, prepare() with
// the exit codes of its errors, JSON on stdout, and the read-only plan view of plan/status.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "engine.h"
#include "options.h"

namespace xa {

PolicyDirs policy_dirs(const Options& o);

void print_json(const nlohmann::ordered_json& j);

// prepare() for O (root, role, kernel); nullopt with EXIT_CODE set after a logged error.
std::optional<Context> prepare_or_report(const Options& o, int& exit_code);

// plan and status: the same read-only steps, each its own view of the plan.
struct PlanView {
    nlohmann::ordered_json (*json)(const Plan&);
    std::string (*text)(const Plan&);
    int (*exit_code)(const Plan&);
    // status: also check the deny list in place (Plan::deny_list).
    bool check_deny_list = false;
};
int show_plan(const Options& o, const PlanView& view);

}  // namespace xa
