#!/bin/bash
# Stage boot: boot the image of stage image three times under QEMU (TCG) and turn what the
# in-image checks (ci/boot/xa-check.sh) report into checks and metrics:
#   boot-xen     Xen + Debian dom0 (xa.mode=dom0): issue 5 stage 4 assertions and the
#                detection timings of stage 6, a PV guest with a vif and a vbd
#   measure      Xen + dom0 with xen.service and xen-autoload.service masked
#                (xa.mode=measure): module loading timings of stage 6
#   boot-native  the same image without Xen (xa.mode=native): issue 5 stage 5
# Results are read from the serial console markers and the result disk, never from QEMU's
# exit code. Every boot has a 600 s deadline. Outputs in $XA_OUT/boot.
# Usage: ci/stage-boot.sh [dom0|measure|native...]   (default: all three)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

img=$XA_OUT/image
dir=$XA_OUT/boot
status=0
[ $# -gt 0 ] || set -- dom0 measure native

# The checks each mode must report: one missing (script died half-way) is a failure.
# (Read through a nameref in boot_once.)
# shellcheck disable=SC2034
expected_dom0=(
    "no guest existed at the module snapshot (xl list)"
    "xen-autoload detect says xen dom0 PV"
    "xen-autoload.service ran and succeeded"
    "xen_netback loaded before any guest" "xen_blkback loaded before any guest"
    "xen_evtchn loaded before any guest" "xen_gntdev loaded before any guest"
    "xen_gntalloc loaded before any guest" "xen_privcmd loaded before any guest"
    "xenfs loaded before any guest"
    "journal: xen-autoload.service reports xen_netback loaded"
    "journal: xen-autoload.service reports xen_blkback loaded"
    "xen-autoload status exits 0"
    "detect speed-up over systemd-detect-virt"
    "PV guest created (xl create)"
    "guest vif Connected (frontend and backend state 4)"
    "guest vbd Connected (frontend and backend state 4)"
    "guest shut down (xl shutdown -w)"
    "guest used its vbd and vif (marker written through blkfront)"
    "no unit failed" "no error from xen-autoload in the journal"
)
# shellcheck disable=SC2034
expected_measure=(
    "dom0 module set from xen-autoload plan"
    "each method loaded the whole set from a clean state"
    "xen-autoload load wall vs the kernel's summed finit_module time"
    "xen-autoload load speed-up over systemd-modules-load"
)
# shellcheck disable=SC2034
expected_native=(
    "xen-autoload detect says no Xen"
    "xen-autoload.service skipped or a no-op"
    "no xen module loaded"
    "no error from xen-autoload in the journal"
    "no Xen-related error in the journal"
    "no unit failed"
)

# loaded_by_us STAGE CONSOLE UNIT_JOURNAL: the backends were inserted by xen-autoload itself
# during boot, either in the initramfs ("xen-autoload: xen-netback: loaded as xen_netback"
# on the console: the initramfs runs before journald) or by the unit (the same line in its
# journal, without "already loaded"). A stock dom0 has neither.
loaded_by_us() {
    local stage=$1 console=$2 journal=$3 m dash where
    for m in xen_netback xen_blkback; do
        dash=${m//_/-}
        where=
        # No pipe into grep -q here: with pipefail, the writer's SIGPIPE would fail the test.
        if grep -aqE "^xen-autoload: $dash: loaded( as $m)?"$'\r*$' "$console"; then
            where="initramfs (console)"
        elif grep -qE "xen-autoload\[[0-9]+\]: $dash: loaded( as $m)?$" "$journal" 2>/dev/null; then
            where="xen-autoload.service (journal)"
        fi
        if [ -n "$where" ]; then
            xa_check "$stage" "$m inserted by xen-autoload at boot" pass "$where"
        else
            xa_check "$stage" "$m inserted by xen-autoload at boot" fail \
                "no 'xen-autoload: $dash: loaded' on the console or in the unit's journal"
        fi
    done
}

# boot_once MODE: one boot, its host-side checks, then the in-image checks and metrics.
boot_once() {
    local mode=$1 kind=xen stage name args=()
    case $mode in
        dom0) stage=boot-xen ;;
        measure)
            stage=measure
            # Nothing may preload the set: Debian's init script and our unit are masked, and
            # xendomains too (without xenstored its xl calls hang and pin xen_privcmd).
            # The initramfs hook still loads the set: xa-measure unloads it first.
            args=(systemd.mask=xen.service systemd.mask=xen-autoload.service
                systemd.mask=xendomains.service)
            ;;
        native) stage=boot-native kind=native ;;
        *) xa_die "stage boot: unknown mode '$mode' (dom0, measure, native)" ;;
    esac
    name=$stage
    rm -f "$XA_OUT/report/$stage.checks" "$XA_OUT/report/$stage.metrics"
    xa_say "boot: $name: booting ($kind, xa.mode=$mode, deadline 600 s)"
    local rc=0
    "$here/boot/qemu-boot.sh" "$kind" "$img" "$dir" "$name" "xa.mode=$mode" "${args[@]}" \
        2>"$dir/$name.err" || rc=$?
    local timing=$dir/$name.timing console=$dir/$name.console.log results=$dir/$name/results.jsonl
    local t_exit t_up t_start t_done
    t_exit=$(sed -n 's/^exit=//p' "$timing" 2>/dev/null)
    t_up=$(sed -n 's/^systemd_up=//p' "$timing" 2>/dev/null)
    t_start=$(sed -n 's/^checks_start=//p' "$timing" 2>/dev/null)
    t_done=$(sed -n 's/^done=//p' "$timing" 2>/dev/null)
    [ -z "$t_exit" ] || xa_metric "$stage" qemu-wall-s "$t_exit" s
    [ -z "$t_up" ] || xa_metric "$stage" systemd-up-s "$t_up" "s from QEMU start"
    [ -z "$t_start" ] || xa_metric "$stage" checks-start-s "$t_start" "s from QEMU start"
    [ -z "$t_done" ] || xa_metric "$stage" checks-done-s "$t_done" "s from QEMU start"

    if grep -q '^timed_out=1' "$timing" 2>/dev/null; then
        xa_check "$stage" "powered off within the 600 s deadline" fail "killed after ${t_exit}s"
    else
        xa_check "$stage" "powered off within the 600 s deadline" pass "${t_exit:-?} s"
    fi
    local panic
    panic=$(grep -a -m1 -E 'Kernel panic|Panic on CPU|\(XEN\) \*\*\*\*|BUG: unable|Oops:' \
        "$console" 2>/dev/null | tr -d '\r' || true)
    if [ -n "$panic" ]; then
        xa_check "$stage" "no panic or oops on the console" fail "$panic"
    else
        xa_check "$stage" "no panic or oops on the console" pass
    fi
    if [ $rc -ne 0 ]; then
        xa_check "$stage" "console XA-DONE marker and result disk" fail \
            "$(tr '\n' ' ' <"$dir/$name.err" | cut -c1-300)"
        status=1
        # The checks saved before the boot died still count (their own results).
        [ -s "$results" ] || return 0
    else
        xa_check "$stage" "console XA-DONE marker and result disk" pass "$console, $dir/$name/"
        # The console and the result disk must tell the same story.
        local n_console n_disk
        n_console=$(grep -ac 'XA-CHECK \(pass\|fail\) ' "$console" || true)
        n_disk=$(jq -s '[.[] | select(.kind=="check")] | length' "$results")
        if [ "$n_console" = "$n_disk" ]; then
            xa_check "$stage" "console markers match the result disk" pass "$n_disk checks"
        else
            xa_check "$stage" "console markers match the result disk" fail \
                "console $n_console, disk $n_disk"
        fi
    fi

    # Re-record the in-image checks and metrics.
    local line kind_ n r d v u
    while IFS= read -r line; do
        kind_=$(jq -r .kind <<<"$line")
        n=$(jq -r .name <<<"$line")
        if [ "$kind_" = check ]; then
            r=$(jq -r .result <<<"$line")
            d=$(jq -r .detail <<<"$line")
            xa_check "$stage" "$n" "$r" "$d"
        elif [ "$kind_" = goal ]; then
            xa_goal "$stage" "$n" "$(jq -r .value <<<"$line")" "$(jq -r .op <<<"$line")" \
                "$(jq -r .limit <<<"$line")" "$(jq -r .unit <<<"$line")"
        else
            v=$(jq -c .value <<<"$line")
            u=$(jq -r .unit <<<"$line")
            xa_metric "$stage" "$n" "$v" "$u"
        fi
    done <"$results"

    [ "$mode" != dom0 ] || loaded_by_us "$stage" "$console" "$dir/$name/journal-xen-autoload.txt"

    local -n expected=expected_$mode
    local e missing=()
    for e in "${expected[@]}"; do
        jq -se --arg n "$e" 'any(.[]; (.kind=="check" or .kind=="goal") and .name==$n)' \
            "$results" >/dev/null ||
            missing+=("$e")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        xa_check "$stage" "every expected check reported" pass "${#expected[@]} checks"
    else
        xa_check "$stage" "every expected check reported" fail "missing: ${missing[*]}"
    fi
}

for f in root.img xen vmlinuz initrd.img; do
    [ -f "$img/$f" ] || { xa_check boot-xen "image present" fail "$img/$f missing"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null ||
    { xa_check boot-xen "qemu-system-x86_64 present" fail "ci/deps/boot.txt"; exit 1; }
mkdir -p "$dir"
for mode in "$@"; do boot_once "$mode"; done

# Any failed check of these boots fails the stage.
for stage in boot-xen measure boot-native; do
    f=$XA_OUT/report/$stage.checks
    [ -f "$f" ] || continue
    if jq -se 'any(.[]; .result=="fail")' "$f" >/dev/null; then status=1; fi
done
exit $status
