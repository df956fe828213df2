# shellcheck shell=bash
# One boot under QEMU, watched from the host: sourced by ci/boot/qemu-boot.sh (the CI image,
# -kernel) and ci/admin/qemu-disk-boot.sh (an installed disk, through its firmware). The
# machine runs our in-image checks, which write a tar archive of their results to a blank
# result disk and print "XA-DONE ..." on the serial console last, then power off. What a
# boot left is judged from the console and that archive, never from QEMU's exit status:
# after a dom0 crash it still exits 0 (-no-reboot).

# qemu_files DIR NAME: the boot's files, as globals: console (DIR/NAME.console.log), result
# (DIR/NAME.result.raw, the result disk) and results (DIR/NAME/, its archive extracted).
# Removes what an earlier boot of NAME left and makes the result disk: 64 MiB of zeros, so
# an unwritten disk reads as an empty archive.
qemu_files() {
    qemu_dir=$1 qemu_name=$2
    console=$1/$2.console.log result=$1/$2.result.raw results=$1/$2
    rm -rf "$console" "$result" "$results" "$1/$2.timing"
    mkdir -p "$results"
    truncate -s 64M "$result"
}

# qemu_watch TOOL DEADLINE DONE_ERE MARKER... -- QEMU_COMMAND...: boots (after qemu_files),
# at nice 5, killed after DEADLINE seconds (timeout(1); QEMU goes too when this script is
# stopped). Writes DIR/NAME.cmdline, NAME.qemu.log (QEMU's own output) and NAME.timing:
# KEY=seconds from QEMU's start, to a tenth, when the console first matched each MARKER
# "KEY:ERE" (polled five times a second, and once after QEMU's end), exit= when QEMU ended, and timed_out=1 when the
# deadline ended it. Returns 0 when the console matches DONE_ERE and the result disk held a
# non-empty results.jsonl; 1 when not, the reason on stderr as "TOOL: NAME: ...".
qemu_watch() {
    local tool=$1 deadline=$2 done_re=$3 start_us marker key rc
    shift 3
    local markers=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do markers+=("$1"); shift; done
    shift
    printf '%q ' "$@" >"$qemu_dir/$qemu_name.cmdline"
    start_us=${EPOCHREALTIME/./}
    timeout --kill-after=10 "$deadline" nice -n 5 "$@" </dev/null >"$qemu_dir/$qemu_name.qemu.log" 2>&1 &
    qemu_pid=$!
    # timeout(1) runs QEMU in a process group of its own: a stopped script stops it here
    # (timeout passes the TERM on).
    trap 'kill "$qemu_pid" 2>/dev/null || true' EXIT
    trap 'exit 143' TERM INT
    local -A seen=()
    # scan: the milestones that newly match, at this moment; once more after QEMU's end, for
    # what it printed after the last look.
    scan() {
        for marker in "${markers[@]}"; do
            key=${marker%%:*}
            [ -z "${seen[$key]:-}" ] || continue
            grep -qaE "${marker#*:}" "$console" 2>/dev/null && seen[$key]=$(qemu_since "$start_us")
        done
        return 0  # a marker not seen yet is no failure (the callers run with errexit)
    }
    while kill -0 "$qemu_pid" 2>/dev/null; do
        scan
        sleep 0.2
    done
    wait "$qemu_pid" && rc=0 || rc=$?
    scan
    seen[exit]=$(qemu_since "$start_us")
    for key in "${!seen[@]}"; do echo "$key=${seen[$key]}"; done | sort >"$qemu_dir/$qemu_name.timing"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "$tool: $qemu_name: no power-off within the $deadline s deadline" >&2
        echo timed_out=1 >>"$qemu_dir/$qemu_name.timing"
    fi
    tar -xf "$result" -C "$results" 2>/dev/null || true
    if ! grep -qaE "$done_re" "$console"; then
        echo "$tool: $qemu_name: no XA-DONE marker on the console; last lines:" >&2
        tail -n 15 "$console" | tr -d '\r' >&2
        return 1
    fi
    if [ ! -s "$results/results.jsonl" ]; then
        echo "$tool: $qemu_name: the result disk holds no results.jsonl" >&2
        return 1
    fi
}

# qemu_since START_US: seconds since START_US (an ${EPOCHREALTIME/./}), to a tenth.
qemu_since() {
    local t=$((${EPOCHREALTIME/./} - $1))
    t=$((t / 100000))
    echo "$((t / 10)).$((t % 10))"
}
