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

# ccache survives between runs on the same machine; a cold one still works. Paths below
# the checkout are hashed relative to it (BASEDIR) and the working directory is not hashed
# (NOHASHDIR), so a fresh clone in another directory hits what an earlier clone compiled.
export CCACHE_DIR=${CCACHE_DIR:-$XA_CACHE/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$XA_TOP} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

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

# xa_source_copy DEST: what git would commit (tracked + untracked, not ignored, not deleted)
# copied to DEST, so that a stale build directory or out/ never leaks into a package.
xa_source_copy() {
    local dest=$1
    mkdir -p "$dest"
    (cd "$XA_TOP" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$XA_TOP" && while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done) |
        (cd "$XA_TOP" && tar --null -T - -cf -) | tar -xf - -C "$dest"
}

# xa_lintian STAGE NAME LOG TARGET: lintian --pedantic on TARGET (a .changes or .deb); the
# check passes with 0 errors and 0 warnings (overrides carry their reason in
# debian/*.lintian-overrides). Records lintian-errors/-warnings; returns 1 on a failure.
xa_lintian() {
    local stage=$1 name=$2 log=$3 target=$4 errors warnings
    lintian --info --display-info --pedantic "$target" >"$log" 2>&1 || true
    errors=$(grep -c '^E: ' "$log" || true)
    warnings=$(grep -c '^W: ' "$log" || true)
    xa_metric "$stage" lintian-errors "$errors"
    xa_metric "$stage" lintian-warnings "$warnings"
    if [ "$errors" -eq 0 ] && [ "$warnings" -eq 0 ] && ! grep -q '^internal error' "$log"; then
        xa_check "$stage" "$name" pass "$(grep -cE '^[IPX]: ' "$log" || true) info/pedantic tags"
    else
        grep -E '^[EW]: ' "$log" >&2 || true
        xa_check "$stage" "$name" fail "$errors errors, $warnings warnings; $log"
        return 1
    fi
}

# xa_rpmlint STAGE NAME LOG FILE...: rpmlint with Fedora's policy (rpm/rpmlint.toml); the
# check passes with 0 errors (warnings stay in LOG). Records rpmlint-errors; returns 1 on a
# failure.
xa_rpmlint() {
    local stage=$1 name=$2 log=$3 summary errors
    shift 3
    rpmlint -c "$XA_TOP/rpm/rpmlint.toml" "$@" >"$log" 2>&1 || true
    summary=$(grep -E '[0-9]+ errors?, [0-9]+ warnings?' "$log" | tail -n 1)
    errors=$(sed -n -E 's/.* ([0-9]+) errors?,.*/\1/p' <<<"$summary")
    xa_metric "$stage" rpmlint-errors "${errors:-0}"
    if [ -n "$summary" ] && [ "$errors" -eq 0 ]; then
        xa_check "$stage" "$name" pass "$summary"
    else
        grep -E ' E: ' "$log" >&2 || true
        xa_check "$stage" "$name" fail "${summary:-no summary}; $log"
        return 1
    fi
}
