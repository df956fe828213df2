#!/bin/bash
# The GitLab job graph (.gitlab-ci.yml) as gitlab-ci-local reads it, against the pipeline:
# jobs build, packages and kernel, each needing the one before; one boot job per boot of
# ci/stage-boot.sh's default list (no more, no fewer), each needing kernel; one admin job
# per firmware of ci/stage-admin.sh's default list, each needing packages; report needing
# them all. Fails naming what differs.
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
check "report needs every stage" "admin boot build kernel packages" "$(needs report)"

# The boots: stage-boot.sh's default list, and the matrix's BOOT values.
want=$(sed -n 's/^\[ \$# -gt 0 \] || set -- //p' "$top/ci/stage-boot.sh" | tr ' ' '\n' | sort | tr '\n' ' ')
have=$(jq -r '.[] | select(.stage == "boot") | .name | capture("\\[[^,]*,(?<b>[^]]*)\\]").b' "$graph" |
    sort | tr '\n' ' ')
check "one boot job per boot of ci/stage-boot.sh" "$want" "$have"
bad=$(jq -r '.[] | select(.stage == "boot") | select([(.needs // [])[].job] != ["kernel"]) | .name' "$graph")
check "every boot job needs kernel" "" "$bad"

# The admin path: stage-admin.sh's default firmware list, and the matrix's FIRMWARE values.
want=$(sed -n 's/^\[ \$# -gt 0 \] || set -- //p' "$top/ci/stage-admin.sh" | tr ' ' '\n' | sort | tr '\n' ' ')
have=$(jq -r '.[] | select(.stage == "admin") | .name | capture("\\[(?<f>[^]]*)\\]").f' "$graph" |
    sort | tr '\n' ' ')
check "one admin job per firmware of ci/stage-admin.sh" "$want" "$have"
bad=$(jq -r '.[] | select(.stage == "admin") | select([(.needs // [])[].job] != ["packages"]) | .name' "$graph")
check "every admin job needs packages" "" "$bad"

[ "$fails" -eq 0 ] || { echo "gitlab-graph-test: $fails check(s) failed" >&2; exit 1; }
echo "gitlab-graph-test: $(jq length "$graph") jobs, graph as the pipeline"
