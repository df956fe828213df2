# shellcheck shell=bash
# Shared helpers for the pipeline stages. Source it; do not run it.
#
# Layout every stage agrees on (all below $XA_OUT, default ./out, git-ignored):
#   build/ build-logs/   CMake build tree of the engine, the build stage's step logs
#   debs/ rpms/ pkg/     built packages and their check logs
#   repo/apt/ repo/dnf/  the repositories (stage kernel adds its packages)
#   kernel/ kernel-pkg/ kernel-cc/  the kernel stage's logs, package and C++ build trees
#   kernel-deb.ready     made by stage kernel once out/kernel holds the .deb (the hand-over
#                        ci/pipeline.sh waits for: XA_KERNEL_DEB_READY below)
#   image/ image-trixie/ image-dracut/ root filesystem images   boot/ console logs, result disks
#   admin/               stage admin's disks, console logs and results, per firmware
#   report/   STAGE.checks and STAGE.metrics (JSON lines, xa_check/xa_metric below);
#             ci/report.sh merges them into report.json and summary.txt

XA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XA_OUT=${XA_OUT:-$XA_TOP/out}
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
export XA_TOP XA_OUT XA_CACHE
export XA_KERNEL_DEB_READY=$XA_OUT/kernel-deb.ready
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

# xa_check STAGE NAME pass|fail|skip|flaky [DETAIL]: record one check of a stage (flaky: a
# boot's first attempt that failed when its second passed, ci/stage-boot.sh).
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

# xa_panic_line CONSOLE: the first line of a boot's console log that says a kernel or Xen
# died (a panic, an oops, Xen's panic banner of 40 stars), nothing when none does. Xen's
# "**** ... ****" boot warnings are not deaths (Xen on Arm prints one for firmware without
# the SMCCC workaround: QEMU's virt machine).
xa_panic_line() {
    grep -a -m1 -E 'Kernel panic|Panic on CPU|\(XEN\) \*{40}([^*]|$)|BUG: unable|Oops:' "$1" 2>/dev/null |
        tr -d '\r' || true
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

# --- Caches shared by concurrent runs ----------------------------------------------------
# Two runs (two pipelines, a pipeline and ci/run-tests.sh) may share one $XA_CACHE. Every
# writer of a cache entry holds that entry's lock ($XA_CACHE/locks/NAME.lock, flock), builds
# in a private directory beside the entry (mktemp -d) and publishes with one rename: a reader
# sees the old entry or the complete new one, never a half-written one, and a failed run
# removes only its own directory. A second run waits for the lock, at most XA_LOCK_WAIT
# seconds (default 1800, then it fails: nothing waits forever), and reuses the entry.
declare -A xa_lock_fds=()

# xa_lock NAME [SECONDS]: take the lock NAME, held until xa_unlock NAME or the end of the
# process (a killed run leaves no lock behind). Programs started meanwhile inherit its
# descriptor: a daemon (gpg-agent) must be started with it closed, or it keeps the lock.
xa_lock() {
    local name=$1 wait=${2:-${XA_LOCK_WAIT:-1800}} fd
    [ -z "${xa_lock_fds[$name]:-}" ] || { xa_say "lock $name: already held by this run"; return 1; }
    mkdir -p "$XA_CACHE/locks"
    exec {fd}>>"$XA_CACHE/locks/$name.lock"
    if ! flock -n "$fd"; then
        xa_say "lock $name: held by another run, waiting (at most $wait s)"
        if ! flock -w "$wait" "$fd"; then
            exec {fd}>&-
            xa_say "FAIL: lock $name: still held after $wait s ($XA_CACHE/locks/$name.lock)"
            return 1
        fi
    fi
    xa_lock_fds[$name]=$fd
}

# xa_unlock NAME: release the lock NAME (nothing when not held).
xa_unlock() {
    local name=$1 fd=${xa_lock_fds[$1]:-}
    [ -n "$fd" ] || return 0
    exec {fd}>&-
    unset "xa_lock_fds[$name]"
}

# xa_publish NEW TARGET: replace TARGET (file or directory) by NEW, on the same file system.
# A file is replaced by one rename; a directory is renamed aside first (rename(2) cannot
# replace a non-empty directory), so only a reader holding no lock could see it missing.
# Call it holding TARGET's lock.
xa_publish() {
    local new=$1 target=$2 old
    if [ -d "$target" ] && [ ! -L "$target" ]; then
        old=$(mktemp -d "$target.tmp.XXXXXX")
        mv -T "$target" "$old/old"
        mv -T "$new" "$target"
        rm -rf "$old"
    else
        mv -fT "$new" "$target"
    fi
}

# xa_cache_fresh TARGET [DAYS [CHECK]]: TARGET exists, was made less than DAYS days ago
# (when DAYS is not empty) and CHECK TARGET succeeds (when CHECK is given).
xa_cache_fresh() {
    [ -e "$1" ] || return 1
    [ -z "${2:-}" ] || [ -n "$(find "$1" -maxdepth 0 -mtime "-$2")" ] || return 1
    [ -z "${3:-}" ] || "$3" "$1"
}

# xa_cache_build [--max-age DAYS] [--check CHECK] NAME TARGET BUILDER [ARG...]: make sure
# the cache entry TARGET (a file or a directory below $XA_CACHE) exists, built at most once
# among concurrent runs. Unless TARGET is fresh (xa_cache_fresh), takes the lock NAME,
# looks again (another run may just have built it), then runs BUILDER ARG... NEW in a
# subshell with errexit, where NEW is a path that does not exist yet in a private directory
# beside TARGET; BUILDER creates NEW (file or directory), and NEW replaces TARGET
# (xa_publish). When BUILDER fails or makes no NEW, TARGET stays as it was and only the
# private directory goes. BUILDER and CHECK run without the lock's descriptor (a daemon
# they start cannot keep the lock). Returns 0 when TARGET is there, else 1.
# Call it as a plain command, never in a condition (if, ||, &&, !): bash ignores errexit
# in everything a condition runs, so a failing step in BUILDER would go unnoticed; such a
# call fails with exit 2. For a status of your own: set +e; xa_cache_build ...; rc=$?
xa_cache_build() {
    local max_age='' check='' name target tmp fd rc=0 errexit=0 ignored
    ignored=$( (set -e; false; echo ignored); true)
    if [ -n "$ignored" ]; then
        xa_say "FAIL: xa_cache_build ${*:1:3}: called in a condition, errexit would not hold in the builder"
        return 2
    fi
    while [ $# -gt 0 ]; do
        case $1 in
            --max-age) max_age=$2; shift 2 ;;
            --check) check=$2; shift 2 ;;
            *) break ;;
        esac
    done
    name=$1 target=$2
    shift 2
    ! xa_cache_fresh "$target" "$max_age" "$check" || return 0
    xa_lock "$name" || return 1
    fd=${xa_lock_fds[$name]}
    if ! xa_cache_fresh "$target" "$max_age" "$check" {fd}>&-; then
        # Leftovers of runs killed while building: nobody else builds TARGET, we hold the lock.
        rm -rf "$target".tmp.*
        mkdir -p "$(dirname "$target")"
        tmp=$(mktemp -d "$target.tmp.XXXXXX")
        [[ $- != *e* ]] || errexit=1
        set +e
        (set -e; "$@" "$tmp/new") {fd}>&-
        rc=$?
        [ "$errexit" = 0 ] || set -e
        if [ "$rc" -ne 0 ]; then
            xa_say "FAIL: cache $name: building $target failed (exit $rc)"
        elif [ ! -e "$tmp/new" ]; then
            xa_say "FAIL: cache $name: the builder made no ${target##*/}"
            rc=1
        fi
        [ "$rc" -ne 0 ] || xa_publish "$tmp/new" "$target" || rc=1
        rm -rf "$tmp"
    fi
    xa_unlock "$name"
    [ "$rc" -eq 0 ]
}

# Shared .deb caches ($XA_CACHE/debs, $XA_CACHE/debs/SUITE) for mmdebstrap's sync-in and
# sync-out, which copy whole directories: never into the shared one. xa_debs_begin CACHE
# sets XA_DEBS_IN, a private snapshot of CACHE's .debs (hard links, taken under the lock
# "debs"), and XA_DEBS_OUT, an empty directory: sync-in from the first, sync-out into the
# second. xa_debs_end (after mmdebstrap, also when it failed) links the .debs CACHE lacks
# into it, under the lock, and removes both. A .deb in CACHE is never written in place.
xa_debs_begin() {
    XA_DEBS_CACHE=$1
    mkdir -p "$XA_DEBS_CACHE" "$XA_CACHE/tmp"
    # Leftovers of killed runs (a run takes minutes, not a day).
    find "$XA_CACHE/tmp" -mindepth 1 -maxdepth 1 -name 'debs.*' -mmin +1440 -exec rm -rf {} + || true
    XA_DEBS_RUN=$(mktemp -d "$XA_CACHE/tmp/debs.XXXXXX")
    XA_DEBS_IN=$XA_DEBS_RUN/in XA_DEBS_OUT=$XA_DEBS_RUN/out
    mkdir -p "$XA_DEBS_IN" "$XA_DEBS_OUT"
    xa_lock debs || return 1
    find "$XA_DEBS_CACHE" -maxdepth 1 -name '*.deb' -type f -exec cp -l -t "$XA_DEBS_IN" {} + 2>/dev/null ||
        find "$XA_DEBS_CACHE" -maxdepth 1 -name '*.deb' -type f -exec cp --remove-destination -t "$XA_DEBS_IN" {} +
    xa_unlock debs
}

xa_debs_end() {
    local f b
    [ -n "${XA_DEBS_RUN:-}" ] || return 0
    xa_lock debs || return 1
    for f in "$XA_DEBS_OUT"/*.deb; do
        [ -f "$f" ] || continue
        b=${f##*/}
        [ ! -e "$XA_DEBS_CACHE/$b" ] || continue
        ln "$f" "$XA_DEBS_CACHE/$b" 2>/dev/null ||
            { cp "$f" "$XA_DEBS_CACHE/.$b.part" && mv -f "$XA_DEBS_CACHE/.$b.part" "$XA_DEBS_CACHE/$b"; }
    done
    xa_unlock debs
    rm -rf "$XA_DEBS_RUN"
    XA_DEBS_RUN=
}
