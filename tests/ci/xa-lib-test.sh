#!/bin/bash
# The in-image check library (ci/boot/xa-lib.sh) decides pass or fail: verdict takes the
# status first, so a command substitution in its detail cannot reset it (it did, when the
# status came last: eleven checks of stage admin and one of stage boot could never fail).
# Also: every caller in ci/ passes the status first, and shutdown_domain. No root, no VM.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck source-path=SCRIPTDIR source=../../ci/boot/xa-lib.sh
. "$top/ci/boot/xa-lib.sh"
# shellcheck disable=SC2317 # called by check()
say() { :; }  # no console here
fails=0
expect() {  # expect NAME RESULT: the recorded result of check NAME
    local got
    got=$(jq -r --arg n "$1" 'select(.name == $n) | .result' "$out/results.jsonl")
    if [ "$got" != "$2" ]; then
        echo "FAIL: check '$1' recorded '${got:-nothing}', expected '$2'" >&2
        fails=$((fails + 1))
    fi
}

set +e
false
verdict $? "failed test, detail from a command" "$(true)"
true
verdict $? "passed test, detail from a failing command" "$(false)"
empty='' some=x
[ -n "$empty" ] && [ -n "$some" ]
verdict $? "failed compound test" "$(printf '%s' "$some")"
verdict "" "no status" "x"
verdict "exit 1" "a detail where the status belongs" "x"
set -e
expect "failed test, detail from a command" fail
expect "passed test, detail from a failing command" pass
expect "failed compound test" fail
expect "no status" fail
expect "a detail where the status belongs" fail

# shutdown_domain: the domain's absence decides, not xl's status (a fake xl: its shutdown
# fails as libxl's did in a loaded run; XL_DOMID_RC says whether the domain still exists).
mkdir -p "$out/bin"
# shellcheck disable=SC2016 # the fake xl's own $1 and variables
printf '%s\n' '#!/bin/sh' 'case $1 in' \
    'shutdown) echo "guest did not acknowledge control request: -3"; exit 1 ;;' \
    'domid) exit "${XL_DOMID_RC:-1}" ;;' 'esac' >"$out/bin/xl"
chmod +x "$out/bin/xl"
set +e
how=$(PATH=$out/bin:$PATH XL_DOMID_RC=1 shutdown_domain xa-guest "$out/xl.log")
rc_gone=$?
how_stuck=$(PATH=$out/bin:$PATH XL_DOMID_RC=0 XA_SHUTDOWN_GRACE=1 shutdown_domain xa-guest "$out/xl.log")
rc_stuck=$?
set -e
if [ "$rc_gone" != 0 ] || [[ $how != *"(gone; xl said: guest did not acknowledge"* ]]; then
    echo "FAIL: a domain gone after xl's failure: exit $rc_gone, '$how'" >&2
    fails=$((fails + 1))
fi
if [ "$rc_stuck" = 0 ] || [[ $how_stuck != "still running: "* ]]; then
    echo "FAIL: a domain still there: exit $rc_stuck, '$how_stuck'" >&2
    fails=$((fails + 1))
fi

# run_when_hotplugged: the guest is unpaused once the driver domain's hotplug-status says
# connected (a fake xenstore-read answers "" twice first), and also when it never does, with
# a failed check saying what it read (XA_HOTPLUG_WAIT=1).
# shellcheck disable=SC2016 # the fakes' own $1 and variables
printf '%s\n' '#!/bin/sh' 'n=$(cat "$XS_COUNT" 2>/dev/null || echo 0); echo $((n + 1)) >"$XS_COUNT"' \
    '[ "$1" = /local/domain/7/backend/vif/9/0/hotplug-status ] || exit 1' \
    '[ "$n" -ge "${XS_EMPTY:-0}" ] && echo connected || echo' >"$out/bin/xenstore-read"
# shellcheck disable=SC2016 # the fake's own variables
printf '%s\n' '#!/bin/sh' 'echo "$*" >>"$XL_LOG"' >"$out/bin/xl"
chmod +x "$out/bin/xenstore-read" "$out/bin/xl"
PATH=$out/bin:$PATH XS_COUNT=$out/xs1 XS_EMPTY=2 XL_LOG=$out/xl1.log run_when_hotplugged "dd1: " x 9 7
PATH=$out/bin:$PATH XS_COUNT=$out/xs2 XS_EMPTY=1000 XL_LOG=$out/xl2.log XA_HOTPLUG_WAIT=1 \
    run_when_hotplugged "dd2: " x 9 7
expect "dd1: guest vif attached by the driver domain's hotplug script (hotplug-status connected)" pass
expect "dd2: guest vif attached by the driver domain's hotplug script (hotplug-status connected)" fail
for i in 1 2; do
    if [ "$(cat "$out/xl$i.log" 2>/dev/null)" != "unpause 9" ]; then
        echo "FAIL: run_when_hotplugged case $i: xl called '$(cat "$out/xl$i.log" 2>/dev/null)', expected 'unpause 9'" >&2
        fails=$((fails + 1))
    fi
done
[ "$(cat "$out/xs1")" = 3 ] || { echo "FAIL: run_when_hotplugged read $(cat "$out/xs1") times, expected 3" >&2; fails=$((fails + 1)); }

# our_journal_since: every line of ours after the cursor, on a real journal file (written
# by systemd-journal-remote from export format; journalctl reads it with --file). With the
# cursor on another source's line, journalctl --after-cursor dropped our first line after
# it (systemd 252); with the cursor on a line of ours, that line is not "since".
jr=/lib/systemd/systemd-journal-remote
[ -x "$jr" ] || { echo "FAIL: $jr missing (ci/deps/boot-integration.txt)" >&2; exit 1; }
i=0
for e in "kernel|other 1|" "xen-autoload|ours A|/devices/vbd-2-51712" "xen-autoload|ours B|/devices/vif-2-0" \
    "kernel|other 2|" "xen-autoload|ours C|/devices/vif-3-0"; do
    IFS='|' read -r ident msg dev <<<"$e"
    printf '%s\n' "__REALTIME_TIMESTAMP=$((1700000000000000 + i * 1000))" \
        "__MONOTONIC_TIMESTAMP=$((1000000 + i * 1000))" "_BOOT_ID=0123456789abcdef0123456789abcdef" \
        "SYSLOG_IDENTIFIER=$ident" "MESSAGE=$msg" "PRIORITY=6" ${dev:+"XA_DEVICE=$dev"} ""
    i=$((i + 1))
done >"$out/export.txt"
"$jr" -o "$out/t.journal" "$out/export.txt" 2>"$out/jr.log" ||
    { echo "FAIL: $jr: $(cat "$out/jr.log")" >&2; exit 1; }
# shellcheck disable=SC2317 # called by our_journal_since
journalctl() { command journalctl --file="$out/t.journal" "$@"; }
cursor_of() { journalctl -o json --no-pager | jq -r --arg m "$1" 'select(.MESSAGE == $m) | .__CURSOR'; }
since() { our_journal_since "$(cursor_of "$1")" | jq -r .MESSAGE | tr '\n' ' '; }
for want in "other 1|ours A ours B ours C " "ours A|ours B ours C " "other 2|ours C " "ours C|"; do
    got=$(since "${want%%|*}")
    if [ "$got" != "${want#*|}" ]; then
        echo "FAIL: our_journal_since the line '${want%%|*}': '$got', expected '${want#*|}'" >&2
        fails=$((fails + 1))
    fi
done
got=$(daemon_device_counts "$(cursor_of "other 1")" | tr '\n' ' ')
if [ "$got" != "vbd-2-51712 1 vif-2-0 1 vif-3-0 1 " ]; then
    echo "FAIL: daemon_device_counts since 'other 1': '$got'" >&2
    fails=$((fails + 1))
fi
unset -f journalctl

# Every call in the in-image scripts: `verdict $? ...` (or a saved status), never `... $?`
# at the end of the call.
bad=$(grep -rnE '^[[:space:]]*verdict ' "$top/ci" | grep -vE 'verdict (\$\?|"\$[a-z_]+") ' || true)
if [ -n "$bad" ]; then
    echo "FAIL: verdict calls without the status first:" >&2
    echo "$bad" >&2
    fails=$((fails + 1))
fi
[ "$fails" = 0 ] && echo "xa-lib: verdict records what the test said ($(wc -l <"$out/results.jsonl") checks); shutdown_domain judges by the domain; run_when_hotplugged unpauses after the hotplug; our_journal_since keeps every line after the cursor"
exit $((fails > 0))
