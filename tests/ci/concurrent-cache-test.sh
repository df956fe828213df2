#!/bin/bash
# Caches shared by concurrent runs (ci/lib.sh: xa_lock, xa_cache_build, xa_debs_begin/end):
# two builders of one cache entry at once, with a slow fake builder in a scratch XA_CACHE.
# Checks: both succeed, the builder ran once, the entry is complete, a failed build keeps
# the other run's entry and leaves nothing behind, a killed run's leftovers go, the lock
# has a deadline, a daemon started by a builder does not keep the lock, errexit holds in a
# builder, and two runs merging .debs into one cache at once lose nothing.
# Usage: tests/ci/concurrent-cache-test.sh [--real]   (--real also runs two
# tests/boot/make-root.sh at once on an empty scratch cache: root, network, ~3 minutes)
# Needs no root and no network without --real (CTest runs it, label ci).
# check's conditions are evaluated by check, not where they are written:
# shellcheck disable=SC2016
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XA_CACHE=$scratch/cache XA_OUT=$scratch/out
# shellcheck source=../../ci/lib.sh source-path=SCRIPTDIR
. "$here/../../ci/lib.sh"

failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check WHAT CONDITION: CONDITION is shell text, evaluated here
    if eval "$2"; then ok "$1"; else bad "$1"; fi
}
# run_plain VAR COMMAND...: COMMAND's status in VAR, COMMAND not in a condition (errexit
# holds in it, as xa_cache_build requires).
run_plain() {
    local var=$1
    shift
    set +e
    "$@"
    printf -v "$var" %s "$?"
    set -e
}

# slow_builder NEW: a directory of 20 files written one by one, slowly; counts its runs.
slow_builder() {
    echo run >>"$XA_CACHE/builder-runs"
    mkdir "$1"
    local i
    for i in $(seq 1 20); do
        echo "$i" >"$1/part-$i"
        sleep 0.05
    done
    echo complete >"$1/COMPLETE"
}
complete() { [ -f "$1/COMPLETE" ] && [ "$(find "$1" -name 'part-*' | wc -l)" -eq 20 ]; }
leftovers() { find "$(dirname "$1")" -maxdepth 1 -name "$(basename "$1").tmp.*" | wc -l; }

# 1. Two runs build the same entry at once: one builds, the other waits and reuses it.
target=$XA_CACHE/entry/root-key1
(xa_cache_build entry "$target" slow_builder) >"$scratch/a.log" 2>&1 &
a=$!
(xa_cache_build entry "$target" slow_builder) >"$scratch/b.log" 2>&1 &
b=$!
rc_a=0 rc_b=0
wait "$a" || rc_a=$?
wait "$b" || rc_b=$?
check "two concurrent builds both succeed (exit $rc_a, $rc_b)" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
check "the builder ran once ($(wc -l <"$XA_CACHE/builder-runs") runs)" '[ "$(wc -l <"$XA_CACHE/builder-runs")" -eq 1 ]'
check "the entry is complete" 'complete "$target"'
check "no private build directory left" '[ "$(leftovers "$target")" -eq 0 ]'
check "the waiting run said so" 'grep -q "held by another run, waiting" "$scratch/a.log" "$scratch/b.log"'

# 2. A failing rebuild of an existing complete entry (10 days old, --max-age 7: stale):
# the entry survives.
fail_builder() { mkdir "$1"; echo half >"$1/part-1"; sleep 0.3; return 1; }
touch -d '10 days ago' "$target"
run_plain rc xa_cache_build --max-age 7 entry "$target" fail_builder 2>/dev/null
check "a failed rebuild returns 1" '[ "$rc" -eq 1 ]'
check "a failed rebuild keeps the existing entry whole" 'complete "$target"'
check "a failed rebuild removes only its own directory" '[ "$(leftovers "$target")" -eq 0 ]'

# 3. A failing first build and a second run at once: the second builds it afterwards.
target2=$XA_CACHE/entry/root-key2
: >"$XA_CACHE/builder-runs"
(xa_cache_build entry2 "$target2" fail_builder) >/dev/null 2>&1 &
a=$!
sleep 0.1
(xa_cache_build entry2 "$target2" slow_builder) >/dev/null 2>&1 &
b=$!
rc_a=0 rc_b=0
wait "$a" || rc_a=$?
wait "$b" || rc_b=$?
check "failed build $rc_a, then the waiting run's build $rc_b" '[ "$rc_a" -eq 1 ] && [ "$rc_b" -eq 0 ]'
check "the waiting run's entry is complete" 'complete "$target2"'
check "no private build directory left" '[ "$(leftovers "$target2")" -eq 0 ]'

# 4. A killed run's private directory is removed by the next build.
target3=$XA_CACHE/entry/root-key3
mkdir -p "$target3.tmp.KILLED/new"
xa_cache_build entry3 "$target3" slow_builder
check "a killed run's leftover is removed" '[ ! -e "$target3.tmp.KILLED" ]'
check "and the entry is complete" 'complete "$target3"'

# 5. errexit in the builder: a failing command in the middle fails the build.
target4=$XA_CACHE/entry/root-key4
errexit_builder() { mkdir "$1"; false; echo complete >"$1/COMPLETE"; }
run_plain rc xa_cache_build entry4 "$target4" errexit_builder 2>/dev/null
check "a builder's failing command fails the build (errexit)" '[ "$rc" -eq 1 ] && [ ! -e "$target4" ]'
# ... and a call in a condition, where bash would ignore errexit, is refused.
rc=0
xa_cache_build entry4 "$target4" errexit_builder 2>/dev/null || rc=$?
check "xa_cache_build in a condition is refused (exit $rc)" '[ "$rc" -eq 2 ] && [ ! -e "$target4" ]'

# 6. The lock has a deadline: nothing waits forever.
(xa_lock held && sleep 3) &
holder=$!
sleep 0.5
start=$(date +%s)
rc=0
(XA_LOCK_WAIT=1 xa_lock held) 2>/dev/null || rc=$?
check "a lock held elsewhere fails after XA_LOCK_WAIT (exit $rc, $(($(date +%s) - start)) s)" '[ "$rc" -eq 1 ] && [ $(($(date +%s) - start)) -lt 3 ]'
wait "$holder"

# 7. A daemon started by a builder (gpg-agent in publish-repos.sh) does not keep the lock.
target5=$XA_CACHE/entry/root-key5
daemon_builder() { mkdir "$1"; (sleep 5 &); echo complete >"$1/COMPLETE"; }
xa_cache_build entry5 "$target5" daemon_builder
rc=0
(XA_LOCK_WAIT=1 xa_lock entry5) 2>/dev/null || rc=$?
check "the lock is free while the builder's daemon still runs" '[ "$rc" -eq 0 ]'

# 8. Two runs merge .debs into one cache at once (mmdebstrap's sync-out, ci/lib.sh
# xa_debs_begin/xa_debs_end): every .deb arrives whole, none is lost, nothing is left over.
debs=$XA_CACHE/debs/bookworm
mkdir -p "$debs"
head -c 100000 /dev/urandom >"$debs/old_1_amd64.deb"
fake_run() { # fake_run ID: the snapshot has old_1, "downloads" shared_2 and own_ID
    xa_debs_begin "$debs"
    [ -f "$XA_DEBS_IN/old_1_amd64.deb" ] || { echo "no snapshot"; return 1; }
    cp "$XA_DEBS_IN"/*.deb "$XA_DEBS_OUT/"
    head -c 3000000 /dev/zero >"$XA_DEBS_OUT/shared_2_amd64.deb"
    head -c 2000000 /dev/zero >"$XA_DEBS_OUT/own_$1_amd64.deb"
    mkdir -p "$XA_DEBS_OUT/partial"
    echo junk >"$XA_DEBS_OUT/partial/half_3_amd64.deb"
    xa_debs_end
}
pids=()
for id in 1 2 3 4; do
    fake_run "$id" >"$scratch/debs-$id.log" 2>&1 &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check "four concurrent .deb merges succeed" '[ "$rc" -eq 0 ]'
check "every .deb is in the cache" '[ "$(find "$debs" -maxdepth 1 -name "*.deb" | wc -l)" -eq 6 ]'
check "shared_2 arrived whole" '[ "$(stat -c %s "$debs/shared_2_amd64.deb")" -eq 3000000 ]'
check "no partial/ and no private directory left" '[ ! -e "$debs/partial" ] && [ -z "$(find "$XA_CACHE/tmp" -mindepth 1 -maxdepth 1)" ]'

# 9. (--real) two tests/boot/make-root.sh at once on an empty scratch cache.
if [ "${1:-}" = --real ]; then
    real=$scratch/real
    mkdir -p "$real"
    XA_CACHE=$real/cache "$here/../boot/make-root.sh" "$real/link-a" >"$real/a.log" 2>&1 &
    a=$!
    XA_CACHE=$real/cache "$here/../boot/make-root.sh" "$real/link-b" >"$real/b.log" 2>&1 &
    b=$!
    rc_a=0 rc_b=0
    wait "$a" || rc_a=$?
    wait "$b" || rc_b=$?
    cat "$real/a.log" "$real/b.log"
    check "two make-root.sh at once both succeed (exit $rc_a, $rc_b)" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
    check "both links point at one complete root" '[ "$(readlink "$real/link-a")" = "$(readlink "$real/link-b")" ] && [ -x "$real/link-a/usr/sbin/mkinitramfs" ] && [ -x "$real/link-a/usr/bin/dracut" ]'
    check "one mmdebstrap run (one 'building' line)" '[ "$(cat "$real/a.log" "$real/b.log" | grep -c "building the Debian root")" -eq 1 ]'
    check "the .debs were merged into the cache" '[ -n "$(find "$real/cache/debs" -maxdepth 1 -name "systemd_*.deb")" ]'
    check "no private directory left" '[ -z "$(find "$real/cache/boot-root" -maxdepth 1 -name "*.tmp.*")" ] && [ -z "$(find "$real/cache/tmp" -mindepth 1 -maxdepth 1)" ]'
fi

if [ "$failures" -ne 0 ]; then
    echo "concurrent-cache-test: $failures failed"
    exit 1
fi
echo "concurrent-cache-test: all passed"
