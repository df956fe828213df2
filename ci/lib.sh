# shellcheck shell=bash
# Shared helpers for the pipeline stages. Source it; do not run it.
#
# Layout every stage agrees on (all below $XA_OUT, default ./out, git-ignored):
#   build/        CMake build tree of the engine
#   debs/ rpms/   built packages          repo/apt/ repo/dnf/   the repositories
#   image/        root filesystem images  boot/                 console logs, result disks
#   report/       one STAGE.json per stage; ci/report.sh merges them into report.json

XA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XA_OUT=${XA_OUT:-$XA_TOP/out}
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
export XA_TOP XA_OUT XA_CACHE
mkdir -p "$XA_OUT/report" "$XA_CACHE"

# ccache survives between runs on the same machine; a cold one still works.
export CCACHE_DIR=${CCACHE_DIR:-$XA_CACHE/ccache}

xa_now() { date +%s; }

# One progress line per step on the terminal: the whole run takes minutes.
xa_say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

xa_die() { xa_say "FAIL: $*"; exit 1; }

# xa_check STAGE NAME pass|fail|skip [DETAIL]: record one check of a stage.
# Checks accumulate in $XA_OUT/report/STAGE.checks (JSON lines).
xa_check() {
    local stage=$1 name=$2 result=$3 detail=${4:-}
    jq -cn --arg n "$name" --arg r "$result" --arg d "$detail" \
        '{name:$n, result:$r, detail:$d}' >>"$XA_OUT/report/$stage.checks"
    xa_say "$stage: $result: $name${detail:+ ($detail)}"
}

# xa_goal STAGE NAME VALUE OP LIMIT [UNIT]: a performance goal (OP is <= < >= >), recorded
# as a check whose result is "met" or "missed". A missed goal is reported, loudly, but does
# not fail the run: timings on a shared 2-core machine under TCG vary too much to gate on.
xa_goal() {
    local stage=$1 name=$2 value=$3 op=$4 limit=$5 unit=${6:-} result=missed
    if [ -n "$value" ] && awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN {
            exit !((op == "<=" && v <= l) || (op == "<" && v < l) ||
                   (op == ">=" && v >= l) || (op == ">" && v > l)) }'; then
        result=met
    fi
    xa_check "$stage" "goal: $name" "$result" "${value:-no figure}${unit:+ $unit}, goal $op $limit${unit:+ $unit}"
}

# xa_metric STAGE NAME VALUE [UNIT]: record one measurement.
xa_metric() {
    local stage=$1 name=$2 value=$3 unit=${4:-}
    jq -cn --arg n "$name" --argjson v "$value" --arg u "$unit" \
        '{name:$n, value:$v, unit:$u}' >>"$XA_OUT/report/$stage.metrics"
}

# The machine's own apt sources, for mmdebstrap and apt: no archive host in the repo.
xa_apt_sources() {
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cat /etc/apt/sources.list.d/debian.sources
    else
        grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    fi
}
