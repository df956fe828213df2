// xen-autoload detect: hypervisor, role, guest type and the evidence for them.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common.h"
#include "exit_codes.h"
#include "report.h"
#include "subcommands.h"

namespace xa {

int run_detect(const Subcommand&, const Options& o) {
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

}  // namespace xa
