// The library's error convention: work that cannot go on throws. ConfigError is for input
// that is unusable as given (a policy file, a --root tree, a kernel config): one line,
// "FILE:LINE: what is wrong: 'value'", which the tools print with exit code 2 (nothing
// done); any other std::exception is a failure (exit 1). Results that are not errors of the
// input (a module that failed to load, a role that cannot work) are values in the returned
// report or outcome (outcome.h), never exceptions.
#pragma once

#include <stdexcept>

namespace xa {

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace xa
