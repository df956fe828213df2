#include "udev_helper.h"

#include "engine.h"
#include "log.h"
#include "module_index.h"
#include "name_resolution.h"
#include "number.h"
#include "platform.h"
#include "sysfs_parse.h"
#include "sysroot.h"
#include "text_escape.h"

namespace xa {

std::optional<std::string> check_alias(std::string_view alias) {
    std::string_view type;
    if (alias.starts_with("xen-backend:"))
        type = alias.substr(12);
    else if (alias.starts_with("xen:"))
        type = alias.substr(4);
    else
        return "not a Xen device alias (xen-backend:* or xen:*)";
    if (type.empty() || type.size() > 32) return "device type must have 1 to 32 characters";
    for (const char c : type)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return "device type has a character outside [a-z0-9_-]";
    return std::nullopt;
}

namespace {

// Backend types the toolstack serves in user space: every guest with a console makes a
// xen-backend:console device, and no kernel module has (or should have) that alias. Not
// an error. Names from libxl (libxl_types.idl, device kinds with a qemu or daemon backend).
bool is_user_space_backend(std::string_view alias) {
    constexpr std::string_view kPrefix = "xen-backend:";
    if (!alias.starts_with(kPrefix)) return false;
    const std::string_view type = alias.substr(kPrefix.size());
    for (const std::string_view t : {"console", "qdisk", "qusb", "vkbd", "vfb", "9pfs"})
        if (type == t) return true;
    return false;
}

}  // namespace

std::optional<BackendDevice> parse_backend_devpath(std::string_view devpath) {
    const auto slash = devpath.rfind('/');
    const std::string_view name =
        slash == std::string_view::npos ? devpath : devpath.substr(slash + 1);
    // <type>-<domid>-<devid>: the type may itself contain '-', so split from the right.
    const auto last = name.rfind('-');
    if (last == std::string_view::npos || last == 0) return std::nullopt;
    const auto mid = name.rfind('-', last - 1);
    if (mid == std::string_view::npos || mid == 0) return std::nullopt;
    const auto domid = parse_unsigned(name.substr(mid + 1, last - mid - 1));
    const auto devid = parse_unsigned(name.substr(last + 1));
    if (!domid || !devid) return std::nullopt;
    return BackendDevice{std::string(name), std::string(name.substr(0, mid)), *domid, *devid};
}

BackendOutcome handle_backend_request(const BackendRequest& req, const Policy& policy,
                                      const ModuleIndex& index, const InserterFactory& factory,
                                      const BackendOptions& opts) {
    BackendOutcome out;
    std::string who = "a backend device";
    if (const auto dev = parse_backend_devpath(req.devpath))
        who = "domain " + std::to_string(dev->domid) + "'s " + escape_text(dev->type) + " device " +
              escape_text(dev->name);
    else if (!req.devpath.empty())
        who = "device " + escape_text(req.devpath);
    const std::string head = who + " asks for " + escape_text(req.alias) + ": ";
    // Every line names the device in XA_DEVICE= (log.h): a check counts how often each
    // device was handled without parsing the messages.
    LogFields fields;
    fields.device = req.devpath;

    if (opts.role != Role::dom0 && opts.role != Role::driver_domain) {
        out.kind = BackendOutcome::Kind::not_for_role;
        out.message = head + "not loaded: role " + role_name(opts.role) + " loads no backends";
        if (opts.role == Role::domU) out.message += " (driver-domain no)";
        fields.role = role_name(opts.role);
        log_info(out.message, fields);
        return out;
    }

    const std::vector<std::string> modules = index.resolve(req.alias);
    if (modules.empty() && is_user_space_backend(req.alias)) {
        out.kind = BackendOutcome::Kind::user_space;
        out.message = head + "served in user space (xenconsoled or qemu), no module to load";
        log_info(out.message, fields);
        return out;
    }
    if (modules.empty()) {
        out.kind = BackendOutcome::Kind::unresolved;
        out.message = head + "no module in " + index.tree() + " has this alias";
        log_error(out.message, fields);
        return out;
    }
    // One alias maps to one backend driver; should several match, the first decides and the
    // rest are named in the message.
    out.module = modules.front();
    fields.module = out.module;
    const DenyRule* deny = DeniedModules(policy, &index).find(out.module);
    if (deny == nullptr) deny = policy.denied(req.alias);
    if (deny != nullptr || index.blacklisted(out.module)) {
        out.kind = BackendOutcome::Kind::denied;
        out.message = head + out.module + " not loaded: " +
                      (deny != nullptr ? "denied by " + deny->origin
                                       : std::string("blacklisted in modprobe.d"));
        log_warning(out.message, fields);
        return out;
    }
    const ModuleState state = index.state(out.module);
    if (is_present(state)) {
        out.kind = BackendOutcome::Kind::present;
        out.message = head + out.module + " already " + module_state_name(state);
        log_info(out.message, fields);
        return out;
    }

    Plan plan;
    plan.kernel = index.kernel();
    plan.tree = index.tree();
    PlanEntry entry;
    entry.requested = req.alias;
    entry.name = out.module;
    entry.state = state;
    entry.action = Action::load;
    entry.reason = who;
    plan.modules.push_back(entry);
    LoadOptions lo;
    lo.jobs = 1;
    lo.dry_run = opts.dry_run;
    lo.deadline = opts.deadline;
    const LoadReport rep = execute_plan(plan, factory, lo);
    const LoadResult& r = rep.results.front();
    const auto ms = std::to_string(static_cast<long>(r.milliseconds));
    switch (r.status) {
        case LoadStatus::inserted:
            out.kind = BackendOutcome::Kind::loaded;
            out.message = head + out.module + " loaded in " + ms + " ms";
            log_info(out.message, fields);
            break;
        case LoadStatus::would_load:
            out.kind = BackendOutcome::Kind::loaded;
            out.message = head + out.module + " would be loaded (dry run)";
            log_info(out.message, fields);
            break;
        case LoadStatus::present:
            out.kind = BackendOutcome::Kind::present;
            out.message = head + out.module + " already present";
            log_info(out.message, fields);
            break;
        case LoadStatus::skipped:  // refused by libkmod: blacklisted after all
            out.kind = BackendOutcome::Kind::denied;
            out.message = head + r.message;
            log_warning(out.message, fields);
            break;
        case LoadStatus::failed:
            out.kind = BackendOutcome::Kind::failed;
            out.message = head + r.message;
            fields.err = r.err;
            log_error(out.message, fields);
            break;
    }
    // A worker is stuck in the kernel: the caller must not wait for it.
    out.timed_out = rep.timed_out;
    return out;
}

}  // namespace xa
