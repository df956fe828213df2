// How a library entry point that stands for a whole piece of work ended. The library never
// chooses a process exit code: the tools map an Outcome to one (tools/exit_codes.h).
#pragma once

namespace xa {

enum class Outcome {
    ok,           // done, or nothing to do
    failed,       // a required module failed or is missing; a role cannot work
    config_error  // the policy, a kernel config or a root is unusable: nothing was done
};

}  // namespace xa
