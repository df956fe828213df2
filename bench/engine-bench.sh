#!/bin/bash
# Start-to-exit cost of the engine, against process start itself, in the same run:
#   detect on a fixture root  vs /bin/true and systemd-detect-virt   (goal: <= 1.5x, <= 0.3x)
#   plan for dom0 on Debian's real module tree vs /bin/true           (goal: <= 5x)
# plus the stripped size (goal < 500 KiB) and the libraries the loader maps (NEEDED).
# hyperfine -N (no shell), medians of many runs: the CI machine is shared and noisy, medians
# are stable where means are not.
# Usage: bench/engine-bench.sh XEN_AUTOLOAD MODULE_TREE SOURCE_DIR [RUNS] [METRICS_FILE]
# MODULE_TREE: as made by tests/setup-module-tree.sh (MODULE_TREE/root/lib/modules/KVER).
# METRICS_FILE gets "name value unit" lines; the table goes to stdout.
set -euo pipefail
bin=$(realpath "$1") tree=$(realpath "$2") src=$(realpath "$3") runs=${4:-500} metrics=${5:-/dev/null}
[ -f "$tree/root/proc/sys/kernel/osrelease" ] || { echo "no module tree at $tree" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing (ci/install-deps.sh build)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/xa-engine-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fixture=$src/tests/fixtures/pv-dom0-before-xenfs
detect=("$bin" detect --root "$fixture")
plan=("$bin" plan --root "$tree/root" --role dom0 --vendor-dir "$src/config")
# Sanity: both really work before they are timed.
"${detect[@]}" | grep -q '^role: *dom0$' || { echo "detect did not find the dom0" >&2; exit 1; }
"${plan[@]}" | grep -q '^load  xen-netback' || { echo "plan did not resolve xen-netback" >&2; exit 1; }

cmds=(/bin/true "${detect[*]}" "${plan[*]}")
have_sdv=0
if command -v systemd-detect-virt >/dev/null; then
    cmds+=(systemd-detect-virt)
    have_sdv=1
fi
# systemd-detect-virt exits 1 on bare metal: -i keeps hyperfine from treating it as a failure.
hyperfine -N -i --warmup 30 --runs "$runs" --export-json "$tmp/h.json" "${cmds[@]}" >"$tmp/h.log" 2>&1 ||
    { cat "$tmp/h.log" >&2; exit 1; }

med() { jq -r ".results[$1].median * 1000" "$tmp/h.json"; }
usr() { jq -r ".results[$1].user * 1000" "$tmp/h.json"; }
t_true=$(med 0) t_detect=$(med 1) t_plan=$(med 2)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
r_detect=$(ratio "$t_detect" "$t_true")
r_plan=$(ratio "$t_plan" "$t_true")

strip -o "$tmp/stripped" "$bin"
size=$(stat -c %s "$tmp/stripped")
kib=$((size / 1024))
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')

printf '| measurement (median of %s runs) | ms | ratio |\n|---|---|---|\n' "$runs"
printf '| /bin/true | %.2f | 1.00 |\n' "$t_true"
printf '| xen-autoload detect --root FIXTURE | %.2f | %s x /bin/true |\n' "$t_detect" "$r_detect"
printf '| xen-autoload plan --root TREE --role dom0 | %.2f | %s x /bin/true |\n' "$t_plan" "$r_plan"
{
    echo "detect-ms $t_detect ms"
    echo "plan-ms $t_plan ms"
    echo "true-ms $t_true ms"
    echo "detect-vs-true $r_detect x"
    echo "plan-vs-true $r_plan x"
    echo "stripped-size $size bytes"
} >>"$metrics"
if [ "$have_sdv" = 1 ]; then
    t_sdv=$(med 3)
    r_sdv=$(ratio "$t_detect" "$t_sdv")
    printf '| systemd-detect-virt | %.2f | detect = %s x it |\n' "$t_sdv" "$r_sdv"
    echo "detect-vs-systemd-detect-virt $r_sdv x" >>"$metrics"
fi
printf '| user CPU: true / detect / plan | %.2f / %.2f / %.2f | |\n' "$(usr 0)" "$(usr 1)" "$(usr 2)"
printf '\nstripped size: %s bytes (%s KiB)\nNEEDED: %s\n' "$size" "$kib" "$needed"
