#!/bin/bash
# The boot watch both QEMU wrappers share (ci/boot/qemu-watch.sh), with a fake QEMU: a
# script that writes console lines and the result archive as the in-image checks do. Holds
# its contract: milestones in NAME.timing, the verdict from the console's XA-DONE line and
# the result disk (never from the command's exit status), the deadline (timed_out=1), and
# that a new boot starts from a blank result disk.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../check.sh
. "$top/tests/check.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The fake machine: FAKE_STEPS says what it does (console lines, "archive", "sleep N",
# "exit N"), in order; the console and result disk are its two arguments.
cat >"$work/fake-qemu" <<'EOF'
#!/bin/bash
console=$1 result=$2
for step in $FAKE_STEPS; do
    case $step in
        archive) (cd "$FAKE_RESULTS" && tar -cf - .) | dd of="$result" conv=notrunc status=none ;;
        sleep=*) sleep "${step#sleep=}" ;;
        exit=*) exit "${step#exit=}" ;;
        *) echo "${step//_/ }" >>"$console" ;;
    esac
done
EOF
chmod +x "$work/fake-qemu"
mkdir -p "$work/results-in"
echo '{"check":"x"}' >"$work/results-in/results.jsonl"
export FAKE_RESULTS=$work/results-in

# boot NAME DEADLINE: one watched boot of the fake; its status in $rc, stderr in NAME.err.
boot() {
    (
        # As in qemu-boot.sh and qemu-disk-boot.sh, which source it.
        set -euo pipefail
        # shellcheck source-path=SCRIPTDIR source=../../ci/boot/qemu-watch.sh
        . "$top/ci/boot/qemu-watch.sh"
        qemu_files "$work/out" "$1"
        qemu_watch fake "$2" 'XA-DONE mode=' "up:Welcome to" "start:XA-START" "done:XA-DONE" \
            -- "$work/fake-qemu" "$console" "$result"
    ) 2>"$work/out/$1.err"
    rc=$?
}
timing() { sed -n "s/^$2=//p" "$work/out/$1.timing"; }
mkdir -p "$work/out"

# A whole boot: every milestone, the results extracted, status 0 although the machine's
# own status is not.
FAKE_STEPS="Welcome_to XA-START archive XA-DONE_mode=dom0 exit=3" boot good 30
check "a finished boot gives 0 whatever QEMU's status" [ "$rc" = 0 ]
check "milestones are recorded to a tenth" grep -qE '^up=[0-9]+\.[0-9]$' "$work/out/good.timing"
check "every milestone and the exit are there" \
    [ "$(grep -cE '^(up|start|done|exit)=' "$work/out/good.timing")" = 4 ]
check "the result archive is extracted" cmp -s "$work/results-in/results.jsonl" "$work/out/good/results.jsonl"
check "the command line is kept" grep -q fake-qemu "$work/out/good.cmdline"
check "no deadline hit" bash -c "! grep -q timed_out $work/out/good.timing"

# No XA-DONE line: 1, with the console's last lines; a milestone not reached is absent.
FAKE_STEPS="Welcome_to archive exit=0" boot nodone 30
check "no XA-DONE: status 1" [ "$rc" = 1 ]
check "no XA-DONE: said, with the console's end" grep -q 'fake: nodone: no XA-DONE marker' "$work/out/nodone.err"
check "an unreached milestone is not in the timing" [ -z "$(timing nodone "done")" ]

# XA-DONE but an empty result disk: 1.
FAKE_STEPS="XA-DONE_mode=dom0" boot noresults 30
check "no results.jsonl: status 1" [ "$rc" = 1 ]
check "no results.jsonl: said" grep -q 'the result disk holds no results.jsonl' "$work/out/noresults.err"

# A machine that never powers off is killed at the deadline.
FAKE_STEPS="Welcome_to sleep=60" boot hung 1
check "the deadline ends a hung machine" [ "$rc" = 1 ]
check "the deadline is recorded" grep -q '^timed_out=1$' "$work/out/hung.timing"
check "the deadline is said" grep -q 'no power-off within the 1 s deadline' "$work/out/hung.err"

# A boot again under the same name starts blank: the old archive and timing are gone.
FAKE_STEPS="XA-DONE_mode=dom0 exit=0" boot good 30
check "a new boot of a name starts from a blank result disk" [ ! -e "$work/out/good/results.jsonl" ]
check "a new boot of a name drops the old milestones" [ -z "$(timing good up)" ]

[ "$fails" = 0 ] && echo "qemu-watch: all checks passed"
exit $((fails > 0))
