#!/bin/bash
# What the user of a Xen host waits for, with xen-autoload and with Debian's stock Xen host,
# side by side in one run: stage boot's `speed` and `speed-stock` boots, the same image
# with and without our packages (the same Xen, dom0 kernel, QEMU and guest; one vCPU each,
# both started at once), REPETITIONS times:
#   xen.service started, from power-on (QEMU's start; the console's "Started xen.service",
#       read five times a second) and from the dom0 kernel's start (systemd's timestamp):
#       from then on xl can create guests
#   the first PV guest: `xl create`, and from `xl create` to its vif and vbd Connected on
#       both ends (stock loads xen-netback and xen-blkback only then, through udev)
# Prints one row per boot, the medians, and the two goals of the speed comparison (first
# guest at least 1.5x faster than stock; xen.service no later than stock's), as met or
# missed: TCG timings on a shared machine vary too much to fail on.
# Needs stage image's bookworm image with its stock variant:
#   XA_IMAGE_STOCK=1 XA_OUT=DIR ci/stage-image.sh bookworm
# Usage: XA_OUT=DIR bench/boot-speed.sh [REPETITIONS]   (default 2)
# Writes DIR/bench/boot-speed.jsonl (every figure of every boot) and boot-speed.txt (the
# table); the boots' own files stay in DIR/boot-speed-N/.
# Exit: 0 when every boot passed its checks, 1 when one did not (its figures are then left
# out of the medians), 2 on usage errors or missing images.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
: "${XA_OUT:?XA_OUT=DIR: the stage image output to boot (see the header)}"
reps=${1:-2}
[[ $reps =~ ^[1-9]$ ]] || { echo "boot-speed: '$reps': not a repetition count 1-9" >&2; exit 2; }
for f in "$XA_OUT/image/root.img" "$XA_OUT/image/stock/root.img"; do
    [ -f "$f" ] || { echo "boot-speed: $f missing: run XA_IMAGE_STOCK=1 XA_OUT=$XA_OUT ci/stage-image.sh bookworm" >&2; exit 2; }
done
bench=$XA_OUT/bench
mkdir -p "$bench" "$XA_OUT/report"
jsonl=$bench/boot-speed.jsonl
: >"$jsonl"

# figure STAGE NAME: one metric of the boot just done ("" when it did not report it).
figure() {
    jq -r --arg n "$2" 'select(.name == $n) | .value' "$XA_OUT/report/$1.metrics" 2>/dev/null | tail -n 1
}

status=0
for ((i = 1; i <= reps; i++)); do
    # Which one QEMU starts first alternates: neither gets the head start every time.
    boots=(speed speed-stock)
    [ $((i % 2)) = 1 ] || boots=(speed-stock speed)
    # No second attempt of a failed boot: the two of a repetition run side by side or not at all.
    XA_BOOT_PARALLEL=2 XA_BOOT_RETRY=0 "$top/ci/stage-boot.sh" "${boots[@]}" >"$bench/boot-speed-$i.log" 2>&1 || true
    rm -rf "$XA_OUT/boot-speed-$i"
    mkdir -p "$XA_OUT/boot-speed-$i"
    cp -a "$XA_OUT/boot"/speed* "$XA_OUT/boot-speed-$i/"
    for stage in speed speed-stock; do
        failed=$(jq -r 'select(.result == "fail") | .name' "$XA_OUT/report/$stage.checks" 2>/dev/null |
            paste -sd ';' -)
        [ -f "$XA_OUT/report/$stage.checks" ] || failed="no checks recorded"
        [ -z "$failed" ] || status=1
        jq -cn --argjson rep "$i" --arg stage "$stage" --arg failed "$failed" \
            --arg power "$(figure "$stage" xen-service-started-s)" \
            --arg dom0 "$(figure "$stage" xen-service-active-s)" \
            --arg create "$(figure "$stage" guest-create-ms)" \
            --arg connected "$(figure "$stage" guest-devices-connected-ms)" \
            --arg before "$(figure "$stage" backends-loaded-before-guest)" \
            '{rep: $rep, stage: $stage, failed: $failed,
              xen_from_power_on_s: ($power | tonumber? // null),
              xen_from_dom0_start_s: ($dom0 | tonumber? // null),
              guest_create_ms: ($create | tonumber? // null),
              guest_connected_ms: ($connected | tonumber? // null),
              backends_before_guest: ($before | tonumber? // null)}' >>"$jsonl"
    done
done

# The medians of the boots that passed, per boot kind and figure:
# {"speed": {"guest_connected_ms": ..., ...}, "speed-stock": {...}}.
medians=$(jq -s '
    def median: sort | if length == 0 then null
        elif length % 2 == 1 then .[length / 2 | floor]
        else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    . as $rows
    | reduce ("speed", "speed-stock") as $s ({};
        .[$s] = ([$rows[] | select(.stage == $s and .failed == "")] as $ok
            | reduce ("xen_from_power_on_s", "xen_from_dom0_start_s", "guest_create_ms",
                      "guest_connected_ms") as $k ({};
                .[$k] = ([$ok[] | .[$k] | numbers] | median))))' "$jsonl")
# med STAGE FIGURE: one of them ("" when no boot of that kind passed).
med() { jq -r --arg s "$1" --arg k "$2" '.[$s][$k] // ""' <<<"$medians"; }

# The table: every boot, then the medians, then the goals.
jq -rs --argjson m "$medians" '
    def show: if . == null then "-" else tostring end;
    ["| boot | xen.service from power-on (s) | from dom0 start (s) | first guest: xl create (ms) | create to vif+vbd Connected (ms) | backends loaded before the guest | checks |",
     "|---|---|---|---|---|---|---|"]
    + [.[] | "| \(.rep) \(.stage) | \(.xen_from_power_on_s | show) | \(.xen_from_dom0_start_s | show) | \(.guest_create_ms | show) | \(.guest_connected_ms | show) | \(.backends_before_guest | show) of 2 | \(if .failed == "" then "all passed" else "FAILED: " + .failed end) |"]
    + [ "speed", "speed-stock" | . as $s | $m[$s]
        | "| median \($s) | \(.xen_from_power_on_s | show) | \(.xen_from_dom0_start_s | show) | \(.guest_create_ms | show) | \(.guest_connected_ms | show) | | |"]
    | .[]' "$jsonl" >"$bench/boot-speed.txt"

# goal NAME VALUE OP LIMIT: one line, met or missed.
goal() {
    local result=missed
    if [ -n "$2" ] && awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
            exit !((op == "<=" && v <= l) || (op == ">=" && v >= l)) }'; then
        result=met
    fi
    printf 'goal: %s: %s (%s %s %s)\n' "$1" "$result" "${2:-no figure}" "$3" "$4"
}
ours=$(med speed guest_connected_ms) stock=$(med speed-stock guest_connected_ms)
ratio=''
[ -z "$ours" ] || [ -z "$stock" ] || ratio=$(awk -v s="$stock" -v o="$ours" 'BEGIN { printf "%.2f", s / o }')
ours_x=$(med speed xen_from_power_on_s) stock_x=$(med speed-stock xen_from_power_on_s)
{
    echo
    goal "first guest, create to Connected: stock / ours" "$ratio" ">=" 1.5
    goal "xen.service from power-on: ours (s) against stock's $stock_x s" "$ours_x" "<=" "${stock_x:-0}"
} >>"$bench/boot-speed.txt"
cat "$bench/boot-speed.txt"
exit $status
