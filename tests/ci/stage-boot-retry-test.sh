#!/bin/bash
# Stage boot's second attempt (ci/stage-boot.sh): a boot with a failed check runs once
# more; passing then is reported "flaky" with the first attempt's failures, failing again
# fails the stage; the first attempt's files are set aside, a passing boot is not re-run,
# XA_BOOT_RETRY=0 turns it off, and ci/report.sh names the flaky boots without failing the
# run. The boots are a fake with qemu-boot.sh's interface (XA_QEMU_BOOT) that reports
# every check stage boot expects of the mode, one of them failed in its first FAKE_FAILS
# boots of FAKE_FAILING (a stage; default every one). No root, no VM. Also: boots run side by
# side only while their emulated CPUs fit in XA_BOOT_PARALLEL.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../check.sh
. "$top/tests/check.sh"

# The fake boot: qemu-boot.sh's options and operands, its files in OUT_DIR.
cat >"$tmp/fake-boot" <<'EOF'
#!/bin/bash
set -euo pipefail
args="$*"
while getopts a:k:c:C:Id:x: opt; do :; done
shift $((OPTIND - 1))
dir=$3 name=$4 mode=${5#xa.mode=}
echo "$args" >"$FAKE_STATE/$name.args"
echo "${XA_BOOT_DEADLINE:-}" >"$FAKE_STATE/$name.deadline"
calls=$FAKE_STATE/$name.calls
echo x >>"$calls"
# FAKE_SLOTS: log start and end, and hold (FAKE_HOLD seconds at most, default 5) until that
# many boots have started.
if [ -n "${FAKE_SLOTS:-}" ]; then
    echo "start $name" >>"$FAKE_STATE/slots.log"
    for _ in $(seq $((${FAKE_HOLD:-5} * 10))); do
        [ "$(grep -c '^start' "$FAKE_STATE/slots.log")" -lt "$FAKE_SLOTS" ] || break
        sleep 0.1
    done
    trap 'echo "end $name" >>"$FAKE_STATE/slots.log"' EXIT
fi
mkdir -p "$dir/$name"
echo "exit=1.0" >"$dir/$name.timing"
echo "Linux fake $FAKE_KVER #1 SMP x86_64" >"$dir/$name/uname.txt"
: >"$dir/$name.console.log"
# A dom0's initramfs loads the backends (stage boot's loaded_by_us reads this on the console).
[ "$mode" != dom0 ] || printf 'xen-autoload: %s: loaded\n' xen-netback xen-blkback >"$dir/$name.console.log"
# Xen on Arm's boot warning on QEMU's virt machine (a warning, not a death), and with
# FAKE_PANIC=1 Xen's panic banner.
[[ $name != *-arm64 ]] || printf '(XEN) **** No support for ARM_SMCCC_ARCH_WORKAROUND_1. ****\r\n' >>"$dir/$name.console.log"
[ -z "${FAKE_PANIC:-}" ] || printf '(XEN) ****************************************\r\n(XEN) Panic on CPU 0:\r\n' >>"$dir/$name.console.log"
first=1
while IFS= read -r check; do
    result=pass
    if [ "$first" = 1 ] && [ "${FAKE_FAILING:-$name}" = "$name" ] &&
        [ "$(wc -l <"$calls")" -le "${FAKE_FAILS:-0}" ]; then result=fail; fi
    first=0
    jq -cn --arg n "$check" --arg r "$result" '{kind:"check", name:$n, result:$r, detail:"fake"}' \
        >>"$dir/$name/results.jsonl"
    echo "XA-CHECK $result $check -- fake" >>"$dir/$name.console.log"
done < <(sed -n "s/^$mode: //p" "$FAKE_CHECKS"
    for p in $(grep -o 'xa[.]phase=[a-z]*' <<<"$args" | cut -d= -f2); do
        sed -n "s/^$mode+$p: //p" "$FAKE_CHECKS"
    done)
EOF
chmod +x "$tmp/fake-boot"
mkdir -p "$tmp/bin"
for q in qemu-system-x86_64 qemu-system-aarch64; do
    printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/$q"
    chmod +x "$tmp/bin/$q"
done

# run CASE FAILS [BOOT...]: stage boot (then report.sh) on a fresh XA_OUT; their exit
# statuses in $tmp/CASE/rc and report-rc.
run() {
    local case=$1 n=$2 out
    shift 2
    out=$tmp/$case
    mkdir -p "$out/state" "$out/out/image/xa-kernel" "$out/out/image-arm64"
    for f in root.img xen vmlinuz initrd.img xa-kernel/vmlinuz xa-kernel/initrd.img; do
        : >"$out/out/image/$f"
        [[ $f == xa-kernel/* ]] || : >"$out/out/image-arm64/$f"
    done
    printf 'KVER=6.1.0-fake\nXA_KVER=6.1.0-fake\n' >"$out/out/image/boot.env"
    [ "${HVM_IMAGE:-0}" != 1 ] || echo HVM=1 >>"$out/out/image/boot.env"
    printf 'KVER=6.1.0-fake\n' >"$out/out/image-arm64/boot.env"
    local rc=0
    PATH=$tmp/bin:$PATH XA_OUT=$out/out XA_CACHE=$out/cache XA_QEMU_BOOT=$tmp/fake-boot XA_BOOT_RETRY=${XA_BOOT_RETRY:-1} \
        XA_BOOT_DIR=${XA_BOOT_DIR:-} XA_BOOT_HVM=${XA_BOOT_HVM:-0} FAKE_PANIC=${FAKE_PANIC:-} \
        FAKE_STATE=$out/state FAKE_FAILS=$n FAKE_FAILING=${FAKE_FAILING:-} FAKE_SLOTS=${FAKE_SLOTS:-} FAKE_HOLD=${FAKE_HOLD:-5} FAKE_KVER=6.1.0-fake \
        FAKE_CHECKS=$top/ci/boot/expected-checks.txt \
        "$top/ci/stage-boot.sh" "$@" >"$out/stage.log" 2>&1 || rc=$?
    echo "$rc" >"$out/rc"
    rc=0
    XA_OUT=$out/out XA_CACHE=$out/cache "$top/ci/report.sh" >"$out/report.log" 2>&1 || rc=$?
    echo "$rc" >"$out/report-rc"
}
is() { [ "$(cat "$1")" = "$2" ]; }
calls() { [ "$(wc -l <"$tmp/$1/state/$2.calls")" -eq "$3" ]; }
first_attempt() { # first_attempt CASE STAGE: the result of its "first attempt" check
    jq -r 'select(.name == "first attempt (re-run once)") | .result + " " + .detail' \
        "$tmp/$1/out/report/$2.checks"
}

run pass 0 native
check "passing boot: stage passes" is "$tmp/pass/rc" 0
check "passing boot: booted once" calls pass boot-native 1
check "passing boot: no first-attempt check" test -z "$(first_attempt pass boot-native)"
check "passing boot: nothing set aside" test ! -e "$tmp/pass/out/boot/attempt-1"

FAKE_FAILING=boot-native run flaky 1 native native-xakernel
check "flaky boot: stage passes" is "$tmp/flaky/rc" 0
check "flaky boot: booted twice" calls flaky boot-native 2
check "the other boot, passing: booted once" calls flaky boot-native-xakernel 1
check "flaky boot: first attempt reported flaky, with its failure" \
    grep -q "^flaky 1 failed: xen-autoload detect says no Xen; the second passed" \
    <(first_attempt flaky boot-native)
check "flaky boot: the first attempt's checks and files set aside" \
    grep -q '"result":"fail"' "$tmp/flaky/out/boot/attempt-1/boot-native.checks"
check "flaky boot: the first attempt's console set aside" \
    test -s "$tmp/flaky/out/boot/attempt-1/boot-native.console.log"
check "flaky boot: the stage's checks are the second attempt's" \
    test "$(jq -s '[.[] | select(.result == "fail")] | length' "$tmp/flaky/out/report/boot-native.checks")" -eq 0
check "flaky boot: the report passes" is "$tmp/flaky/report-rc" 0
check "flaky boot: the report names it" grep -q "^flaky: boot-native: failed, then passed" "$tmp/flaky/report.log"

run broken 2 native
check "failing twice: stage fails" is "$tmp/broken/rc" 1
check "failing twice: booted twice" calls broken boot-native 2
check "failing twice: first attempt reported failed" \
    grep -q "^fail 1 failed: .*; the second failed too" <(first_attempt broken boot-native)
check "failing twice: the report fails" is "$tmp/broken/report-rc" 1

XA_BOOT_RETRY=0 run noretry 1 native
check "XA_BOOT_RETRY=0: stage fails" is "$tmp/noretry/rc" 1
check "XA_BOOT_RETRY=0: booted once" calls noretry boot-native 1
check "XA_BOOT_RETRY=0: nothing set aside" test ! -e "$tmp/noretry/out/boot/attempt-1"

# The two-CPU boot (measure) never runs beside another on 2 slots; two one-CPU boots do.
# Each fake holds until two boots have started (5 s at most): a pipeline that put measure
# beside native would interleave their lines.
FAKE_SLOTS=2 run slots 0 native measure
check "two-CPU boot: stage passes" is "$tmp/slots/rc" 0
check "two-CPU boot: ran alone ($(tr '\n' ',' <"$tmp/slots/state/slots.log"))" \
    test "$(tr '\n' ',' <"$tmp/slots/state/slots.log")" = "start boot-native,end boot-native,start measure,end measure,"
# Here the hold ends as soon as the second starts; its deadline only bounds a broken stage.
FAKE_SLOTS=2 FAKE_HOLD=60 run pair 0 native native-xakernel
check "one-CPU boots: two side by side ($(tr '\n' ',' <"$tmp/pair/state/slots.log"))" \
    grep -q "^start.*,start.*,end" <(tr '\n' ',' <"$tmp/pair/state/slots.log")

# The arm64 boots (stage arm64): its image, qemu-boot.sh -a arm64, the dom0 told its type
# (HVM on Arm), their files where XA_BOOT_DIR says.
XA_BOOT_DIR=$tmp/arm64/out/arm64/boot-image run arm64 0 dom0-arm64 native-arm64
check "arm64 boots: stage passes" is "$tmp/arm64/rc" 0
check "arm64 dom0: -a arm64, image-arm64, xa.dom0-type=HVM, xa.phase=arm ($(cat "$tmp/arm64/state/boot-xen-arm64.args"))" \
    grep -qE -- "-a arm64 .*xen $tmp/arm64/out/image-arm64 .* xa.mode=dom0 xa.dom0-type=HVM xa.phase=arm\$" "$tmp/arm64/state/boot-xen-arm64.args"
check "arm64 native: -a arm64, no dom0 type ($(cat "$tmp/arm64/state/boot-native-arm64.args"))" \
    grep -qE -- "-a arm64 .*native $tmp/arm64/out/image-arm64 .* xa.mode=native\$" "$tmp/arm64/state/boot-native-arm64.args"
panic_check() { # panic_check CASE STAGE: its "no panic or oops" check, result and detail
    jq -r 'select(.name == "no panic or oops on the console") | .result + " " + .detail' \
        "$tmp/$1/out/report/$2.checks"
}
check "arm64 dom0: Xen on Arm's firmware warning is not a panic" \
    test "$(panic_check arm64 boot-xen-arm64)" = "pass "
FAKE_PANIC=1 XA_BOOT_RETRY=0 run panic 0 native
check "Xen's panic banner: the boot fails ($(panic_check panic boot-native))" \
    test "$(panic_check panic boot-native)" = "fail (XEN) ****************************************"
check "arm64 boots: their files in XA_BOOT_DIR" \
    test -s "$tmp/arm64/out/arm64/boot-image/boot-xen-arm64/results.jsonl" -a ! -e "$tmp/arm64/out/boot"

# XA_BOOT_HVM=1: boot-xen also runs the HVM guest (xa.phase=hvm) on the CPU model with
# nested paging and the copy disk, with the longer deadline, and every dom0+hvm check is
# expected; an image made without XA_IMAGE_HVM=1 (no HVM=1 in boot.env) is not booted.
HVM_IMAGE=1 XA_BOOT_HVM=1 run hvm 0 dom0
check "XA_BOOT_HVM=1: stage passes" is "$tmp/hvm/rc" 0
check "XA_BOOT_HVM=1: -C qemu64,+svm,+npt, -x the image's root.img, xa.phase=hvm ($(cat "$tmp/hvm/state/boot-xen.args"))" \
    grep -qE -- "-C qemu64,\+svm,\+npt -x $tmp/hvm/out/image/root.img xen .* xa.mode=dom0 xa.phase=hvm\$" "$tmp/hvm/state/boot-xen.args"
check "XA_BOOT_HVM=1: deadline 1500 s" is "$tmp/hvm/state/boot-xen.deadline" 1500
check "XA_BOOT_HVM=1: the dom0 and dom0+hvm checks expected" \
    grep -q "\"every expected check reported\",\"result\":\"pass\",\"detail\":\"$(grep -cE '^dom0(\+hvm)?: ' \
        "$top/ci/boot/expected-checks.txt") checks\"" "$tmp/hvm/out/report/boot-xen.checks"
check "XA_BOOT_HVM=1: $(grep -c '^dom0+hvm: ' "$top/ci/boot/expected-checks.txt") hvm guest checks reported" \
    test "$(grep -c '"hvm guest: ' "$tmp/hvm/out/report/boot-xen.checks")" -eq "$(grep -c '^dom0+hvm: ' "$top/ci/boot/expected-checks.txt")"
XA_BOOT_HVM=1 XA_BOOT_RETRY=0 run nohvm 0 dom0
check "XA_BOOT_HVM=1 on an image without HVM=1: stage fails" is "$tmp/nohvm/rc" 1
check "XA_BOOT_HVM=1 on an image without HVM=1: not booted" test ! -e "$tmp/nohvm/state/boot-xen.calls"
check "XA_BOOT_HVM=1 on an image without HVM=1: says why" \
    grep -q 'XA_IMAGE_HVM=1' "$tmp/nohvm/out/report/boot-xen.checks"
HVM_IMAGE=1 run plain 0 dom0
check "without XA_BOOT_HVM: no hvm phase, no copy disk ($(cat "$tmp/plain/state/boot-xen.args"))" \
    test -z "$(grep -oE -- 'xa.phase=hvm|-x ' "$tmp/plain/state/boot-xen.args")"
check "without XA_BOOT_HVM: deadline 1200 s" is "$tmp/plain/state/boot-xen.deadline" 1200

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all stage boot retry checks passed"
