#!/bin/bash
# CTest kconfig.merge-strict: the strict merge on the real linux-source-6.1 tree.
#  1. a fragment requesting symbols whose dependency is off must exit 1 and name each
#     symbol, its value and its `depends on` with the current values;
#  2. a request overridden by a `select` must fail and name the selector;
#  3. a fragment that agrees with the kernel must exit 0 with every request holding;
#  4. two fragments asking different values for one symbol must exit 2 (usage error).
# Usage: merge-strict-test.sh MERGE_STRICT DATA_DIR WORK_DIR
set -euo pipefail
merge=$1 data=$2 work=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
srctree=$("$top/kernel-config/unpack-source.sh")
rm -rf "$work"
mkdir -p "$work"
fail=0
check() { # check DESCRIPTION COMMAND...: count a failed assertion, keep going
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

rc=0
"$merge" --srctree "$srctree" --objtree "$work/dep-off" --base-target x86_64_defconfig \
    "$data/dep-off.config" >"$work/dep-off.out" 2>"$work/dep-off.err" || rc=$?
cat "$work/dep-off.err"
check "dependency off: exit 1 (got $rc)" test "$rc" = 1
check "names XEN_NETDEV_BACKEND and its dependency" \
    grep -qF 'CONFIG_XEN_NETDEV_BACKEND: requested m, got not set' "$work/dep-off.err"
check "XEN_NETDEV_BACKEND depends on XEN_BACKEND [=n]" \
    grep -qE '^    depends on: .*XEN_BACKEND \[=n\]' "$work/dep-off.err"
check "menu condition XEN [=n] shown" grep -qF 'XEN [=n]' "$work/dep-off.err"
check "XEN_ACPI_PROCESSOR: ACPI_PROCESSOR and CPU_FREQ values shown" \
    grep -qE 'XEN_DOM0 \[=n\] && X86 \[=y\] && ACPI_PROCESSOR \[=[ym]\] && CPU_FREQ \[=y\]' "$work/dep-off.err"
check "unknown symbol reported as such" \
    grep -qF 'CONFIG_XEN_NO_SUCH_SYMBOL: requested y, got not set' "$work/dep-off.err"
check "bool requested as m reported" grep -qF 'a bool cannot be m' "$work/dep-off.err"
check "XEN_DOM0 (not requested) did not make it a failure line" \
    bash -c "! grep -q '^CONFIG_XEN_DOM0:' '$work/dep-off.err'"
check "count line" grep -qE '^merge-strict: 4 of 4 requested symbols did not hold' "$work/dep-off.err"

rc=0
"$merge" --srctree "$srctree" --objtree "$work/selected" --base-target x86_64_defconfig \
    "$data/selected.config" >"$work/selected.out" 2>"$work/selected.err" || rc=$?
cat "$work/selected.err"
check "value forced by select: exit 1 (got $rc)" test "$rc" = 1
check "names the selector" grep -qF 'selected by: XENFS [=y]' "$work/selected.err"
check "only the forced symbol fails" \
    grep -qE '^merge-strict: 1 of 3 requested symbols did not hold' "$work/selected.err"

rc=0
"$merge" --srctree "$srctree" --objtree "$work/ok" --base-target x86_64_defconfig \
    "$data/ok.config" >"$work/ok.out" 2>&1 || rc=$?
cat "$work/ok.out"
check "agreeing fragment: exit 0 (got $rc)" test "$rc" = 0
check "agreeing fragment applied" grep -qx 'CONFIG_XEN_NETDEV_BACKEND=m' "$work/ok/.config"

rc=0
"$merge" --srctree "$srctree" --objtree "$work/contra" --base-target x86_64_defconfig \
    "$data/ok.config" "$data/contradicts-ok.config" >"$work/contra.out" 2>&1 || rc=$?
cat "$work/contra.out"
check "contradicting fragments: exit 2 (got $rc)" test "$rc" = 2
check "contradiction names both places" \
    grep -qE 'contradicts-ok.config:[0-9]+: CONFIG_XEN_NETDEV_BACKEND=y contradicts .*ok.config:[0-9]+' "$work/contra.out"
exit $fail
