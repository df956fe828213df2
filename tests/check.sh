# shellcheck shell=bash
# The shell tests' verdicts (tests/boot, tests/ci). Source it. check NAME COMMAND...: runs
# COMMAND, prints "ok: NAME", or "FAIL: NAME" on stderr and counts it in $fails.
fails=0
check() {
    local name=$1
    shift
    if "$@"; then echo "ok: $name"; else echo "FAIL: $name" >&2; fails=$((fails + 1)); fi
}
