// Reports: human text and JSON (nlohmann-json) for detect, plan, load and status.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "loader.h"
#include "plan.h"
#include "platform.h"

namespace xa {

nlohmann::ordered_json platform_json(const Platform& p, bool driver_domain);
std::string platform_text(const Platform& p, bool driver_domain);

nlohmann::ordered_json plan_json(const Plan& plan);
std::string plan_text(const Plan& plan);

nlohmann::ordered_json load_json(const LoadReport& report);
// One line per module.
std::string load_text(const LoadReport& report);

// Status: the plan read as "is everything the policy wants present?".
bool status_complete(const Plan& plan);
nlohmann::ordered_json status_json(const Plan& plan);
std::string status_text(const Plan& plan);

}  // namespace xa
