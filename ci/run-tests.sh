#!/bin/bash
# The README's test command: install what the build needs, configure, build, run the test
# suite (CTest, output on failure). Ends with CTest's summary line.
# Usage: ci/run-tests.sh (as root)   (env: XA_BUILD_DIR, default out/build; XA_JOBS, default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$here/install-deps.sh" base build boot-integration
build=${XA_BUILD_DIR:-$XA_OUT/build}
jobs=${XA_JOBS:-2}

xa_say "configure $build"
# Warnings are errors in CI and for developers (the project's default is off, for users).
cmake -S "$XA_TOP" -B "$build" -G Ninja -DXA_WERROR=ON \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
xa_say "build"
nice -n 10 cmake --build "$build" -j "$jobs"
xa_say "test"
# Every test has its own deadline (CTest TIMEOUT); this one bounds the whole run.
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900
