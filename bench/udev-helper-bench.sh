#!/bin/bash
# Cost of the udev helper per backend event: `xen-autoload udev xen-backend:vif DEVPATH`, the
# command 70-xen-autoload.rules runs for every xen-backend "add". Measured with --dry-run
# against a fixture dom0 root holding Debian's real module tree (the same policy reading,
# libkmod alias resolution and deny checks as a real event; only the finit_module call,
# kernel time, is left out).
#   instructions per invocation: valgrind --tool=callgrind (whole process: loader, libc,
#                                libkmod, libsystemd, the program)
#   wall time per invocation:    median and max of N runs
# Usage: bench/udev-helper-bench.sh XEN_AUTOLOAD MODULE_TREE SOURCE_DIR [N] [METRICS_FILE]
# MODULE_TREE: as made by tests/setup-module-tree.sh (MODULE_TREE/root/lib/modules/KVER).
set -euo pipefail
bin=$(realpath "$1") tree=$(realpath "$2") src=$(realpath "$3") n=${4:-200} metrics=${5:-/dev/null}
[ -f "$tree/root/proc/sys/kernel/osrelease" ] || { echo "no module tree at $tree" >&2; exit 1; }
tmp=$(mktemp -d /tmp/xa-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

root=$tmp/root
cp -a "$src/tests/fixtures/pv-dom0-before-xenfs" "$root"
mkdir -p "$root/lib" "$root/sys/module" "$root/etc/xen-autoload"
# Inside the root, hard-linked (copied on another file system): a module file outside a
# --root counts as missing.
cp -al "$tree/root/lib/modules" "$root/lib/" 2>/dev/null || cp -a "$tree/root/lib/modules" "$root/lib/"
cp "$tree/root/proc/sys/kernel/osrelease" "$root/proc/sys/kernel/osrelease"
: >"$root/proc/modules"
args=(udev xen-backend:vif /devices/xen-backend/vif-3-0 --dry-run --root "$root" --vendor-dir "$src/config")

# Sanity: the helper really resolves and decides.
"$bin" "${args[@]}" 2>"$tmp/out" || true
grep -q "xen_netback would be loaded" "$tmp/out" || { echo "helper did not resolve xen-backend:vif:" >&2; cat "$tmp/out" >&2; exit 1; }

valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" "${args[@]}" 2>"$tmp/cg.log"
instr=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.out" | head -n1)
[ -n "$instr" ] || instr=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/cg.out" | head -n1)

for ((i = 0; i < n; i++)); do
    t0=$(date +%s%N)
    "$bin" "${args[@]}" 2>/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
done | sort -n >"$tmp/us"
median=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$tmp/us")
max=$(tail -n1 "$tmp/us")

echo "udev helper per invocation: ${instr} instructions (callgrind), wall median ${median} us, max ${max} us (n=$n)"
{
    printf '{"name":"udev_helper_instructions","value":%s,"unit":"instructions"}\n' "$instr"
    printf '{"name":"udev_helper_wall_median","value":%s,"unit":"us"}\n' "$median"
    printf '{"name":"udev_helper_wall_max","value":%s,"unit":"us"}\n' "$max"
} >>"$metrics"
