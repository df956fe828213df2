#!/bin/bash
# ci/pipeline.sh's hand-over from the kernel's background build phase: the later stages
# image starts once stage kernel has made the .deb (XA_KERNEL_DEB_READY), while the phase
# goes on with the .rpm and the checks; the pipeline joins the phase before stage boot (the
# boots get the machine to themselves) and fails when it failed, and a phase that fails
# before the .deb stops the run at stage kernel. The stages are fakes in a copy of ci/ (pipeline.sh, lib.sh, report.sh are the real
# ones). The fake kernel phase waits for the image stage to start (with a deadline) before it
# ends: a pipeline that waited for the whole phase would miss it. No root, no build.
# The fake stages' bodies are single-quoted: expanded in the fakes, not here.
# shellcheck disable=SC2016
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../check.sh
. "$top/tests/check.sh"

mkdir -p "$tmp/ci"
cp "$top/ci/pipeline.sh" "$top/ci/lib.sh" "$top/ci/report.sh" "$tmp/ci/"
printf '#!/bin/bash\nexit 0\n' >"$tmp/ci/install-deps.sh"
chmod +x "$tmp/ci/install-deps.sh"
# fake_stage NAME BODY: a stage that logs its start to $XA_OUT/order, reports one check
# and runs BODY.
fake_stage() {
    cat >"$tmp/ci/stage-$1.sh" <<EOF
#!/bin/bash
set -euo pipefail
. "\$(dirname "\$0")/lib.sh"
echo "$1 \$*" >>"\$XA_OUT/order"
$2
xa_check $1 "fake $1 \$*" pass
EOF
    chmod +x "$tmp/ci/stage-$1.sh"
}
fake_stage build ''
fake_stage packages ''
fake_stage image 'touch "$XA_OUT/image-started"'
fake_stage boot ''
# The kernel: --phase publish logs only; --phase build makes the .deb and the mark, then
# waits for the image stage (60 s at most), then ends as FAKE_KERNEL says.
fake_stage kernel '
if [ "$*" = "--phase build" ]; then
    [ "$FAKE_KERNEL" != fail-before ] || exit 1
    mkdir -p "$XA_OUT/kernel"
    : >"$XA_OUT/kernel/linux-image-xen-autoload_0_amd64.deb"
    touch "$XA_KERNEL_DEB_READY"
    for _ in $(seq 600); do [ ! -e "$XA_OUT/image-started" ] || break; sleep 0.1; done
    [ -e "$XA_OUT/image-started" ] || { echo "fake kernel: no image stage before its end" >&2; exit 3; }
    echo "kernel-phase-end" >>"$XA_OUT/order"
    [ "$FAKE_KERNEL" != fail-after ] || exit 1
fi'
# Every other stage of the pipeline's default list (all_stages in ci/pipeline.sh): a plain fake.
read -r -a stages <<<"$(sed -n 's/^all_stages=(\(.*\))$/\1/p' "$top/ci/pipeline.sh")"
[ ${#stages[@]} -gt 0 ] || { echo "FAIL: no all_stages=(...) in ci/pipeline.sh" >&2; exit 1; }
for s in "${stages[@]}"; do
    [ -e "$tmp/ci/stage-$s.sh" ] || fake_stage "$s" ''
done

# run CASE: the whole pipeline with FAKE_KERNEL=CASE, its exit status in $tmp/CASE.rc.
run() {
    local rc=0
    mkdir -p "$tmp/$1"
    FAKE_KERNEL=$1 XA_OUT=$tmp/$1/out XA_CACHE=$tmp/$1/cache XA_GITLAB_LOCAL=0 \
        "$tmp/ci/pipeline.sh" >"$tmp/$1/log" 2>&1 || rc=$?
    echo "$rc" >"$tmp/$1.rc"
}
order() { tr '\n' ' ' <"$tmp/$1/out/order"; }

run pass
check "pass: exit 0 ($(cat "$tmp/pass.rc"))" test "$(cat "$tmp/pass.rc")" = 0
check "pass: image started before the kernel phase ended ($(order pass))" \
    bash -c "grep -n . '$tmp/pass/out/order' | grep -A9 ':image' | grep -q kernel-phase-end"
check "pass: boot started after the kernel phase ended ($(order pass))" \
    bash -c "grep -n . '$tmp/pass/out/order' | grep -A9 ':kernel-phase-end' | grep -q ':boot'"
check "pass: published at the hand-over and again after the join" \
    test "$(grep -c '^kernel --phase publish' "$tmp/pass/out/order")" = 2
check "pass: the phase's check is in the report" \
    grep -q 'fake kernel --phase build' "$tmp/pass/out/summary.txt"

run fail-after
check "fail-after: the run fails ($(cat "$tmp/fail-after.rc"))" test "$(cat "$tmp/fail-after.rc")" != 0
check "fail-after: image ran, boot did not ($(order fail-after))" \
    bash -c "grep -qx 'image ' '$tmp/fail-after/out/order' && ! grep -q '^boot' '$tmp/fail-after/out/order'"

run fail-before
check "fail-before: the run fails ($(cat "$tmp/fail-before.rc"))" test "$(cat "$tmp/fail-before.rc")" != 0
check "fail-before: no image stage ($(order fail-before))" \
    bash -c "! grep -q '^image' '$tmp/fail-before/out/order'"
check "fail-before: stage kernel FAILED" grep -q 'stage kernel: FAILED' "$tmp/fail-before/log"

[ $fails -eq 0 ] || { tail -n 30 "$tmp"/*/log >&2; exit 1; }
echo "pipeline hand-over: all checks passed"
