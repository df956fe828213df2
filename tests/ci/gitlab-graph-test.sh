#!/bin/bash
# The GitLab job graph (.gitlab-ci.yml) as gitlab-ci-local reads it, against the pipeline:
# jobs build, packages and kernel, each needing the one before; one boot job per boot of
# ci/stage-boot.sh's default list (no more, no fewer), each needing kernel; one admin job
# per firmware of ci/stage-admin.sh's default list, each needing packages; arm64 needing
# nothing; report needing them all. Fails naming what differs.
# Usage: tests/ci/gitlab-graph-test.sh   (installs gitlab-ci-local once, ci/gitlab-local.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
graph=$(mktemp)
trap 'rm -f "$graph"' EXIT
"$top/ci/gitlab-local.sh" --list-json >"$graph"
fails=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected '$2', got '$3'" >&2; fails=$((fails + 1)); fi
}
needs() { jq -r --arg j "$1" '.[] | select(.name == $j) | [(.needs // [])[].job] | sort | join(" ")' "$graph"; }

check "job build exists, needs nothing" "" "$(needs build)"
check "packages needs build" "build" "$(needs packages)"
check "kernel needs packages" "packages" "$(needs kernel)"
check "report needs every stage" "admin arm64 boot build kernel packages" "$(needs report)"
check "arm64 needs nothing" "" "$(needs arm64)"

# matrix STAGE SCRIPT VALUE_RE NEED WHAT: the jobs of STAGE are one per entry of SCRIPT's
# default list (its `[ $# -gt 0 ] || set -- ...` line), the matrix value taken from the job
# name with VALUE_RE (jq capture, group v), and each needs exactly NEED.
matrix() {
    local stage=$1 script=$2 re=$3 need=$4 what=$5 want have bad
    want=$(sed -n 's/^\[ \$# -gt 0 \] || set -- //p' "$top/ci/$script" | tr ' ' '\n' | sort | tr '\n' ' ')
    have=$(jq -r --arg s "$stage" --arg re "$re" '.[] | select(.stage == $s) | .name | capture($re).v' "$graph" |
        sort | tr '\n' ' ')
    check "one $stage job per $what of ci/$script" "$want" "$have"
    bad=$(jq -r --arg s "$stage" --arg n "$need" '.[] | select(.stage == $s) | select([(.needs // [])[].job] != [$n]) | .name' "$graph")
    check "every $stage job needs $need" "" "$bad"
}
matrix boot stage-boot.sh '\[[^,]*,(?<v>[^]]*)\]' kernel boot
matrix admin stage-admin.sh '\[(?<v>[^]]*)\]' packages firmware

[ "$fails" -eq 0 ] || { echo "gitlab-graph-test: $fails check(s) failed" >&2; exit 1; }
echo "gitlab-graph-test: $(jq length "$graph") jobs, graph as the pipeline"
