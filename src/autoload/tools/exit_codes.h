// The exit codes of xen-autoload (docs/design.md, xen-autoload(8)): the tools' side of the
// wall, the library returns outcomes (lib/outcome.h).
#pragma once

#include "outcome.h"

namespace xa {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;  // usage or config error: nothing done
inline constexpr int kExitNotPermitted = 3;

inline constexpr int exit_code(Outcome o) {
    switch (o) {
        case Outcome::ok:
            return kExitOk;
        case Outcome::failed:
            return kExitFailed;
        case Outcome::config_error:
            return kExitUsage;
    }
    return kExitFailed;
}

}  // namespace xa
