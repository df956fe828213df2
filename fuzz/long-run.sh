#!/bin/bash
# The long fuzz run, once per change of a parser (CI runs each target for 10 s only, in
# ci/stage-build.sh): every libFuzzer target in fuzz/CMakeLists.txt, built with clang and
# ASan+UBSan, for RUNS executions each (default 10 million), JOBS targets at a time (default
# the CPU count), each for at most SECONDS (-t, default no limit: a run cut short says how
# many executions it made, never that it reached RUNS). Each starts from its seeds
# (fuzz/corpus/NAME) and the corpus the runs before grew (OUT/corpus/NAME, kept between
# runs). One line per target:
#   TARGET  EXECUTIONS  SECONDS  EXEC/S  CORPUS-SIZE  crashes=N
# and OUT/long-run.txt holds the same, OUT/TARGET.log the fuzzer's own output. A crash,
# leak, sanitizer report or timeout (-timeout=10 per input) leaves its input in
# OUT/artifacts/ and makes the exit status 1.
# TARGET names (json, kconfig, ...; default every target) pick some of them, e.g. the ones
# whose parser changed or that have not reached RUNS yet.
# ASan keeps no allocation stack (ASAN_OPTIONS=malloc_context_size=0 unless ASAN_OPTIONS is
# set): every check stays, a report only lacks where the memory was allocated, and the
# allocation-heavy targets (json, kconfig) run about 15 % faster. To see it, run the
# artifact again with stacks: ASAN_OPTIONS= OUT/build/fuzz/fuzz_NAME OUT/artifacts/FILE.
# Usage: fuzz/long-run.sh [-r RUNS] [-j JOBS] [-t SECONDS] [-o OUT] [TARGET...]
#        (OUT default out/fuzz-long)
set -euo pipefail
export ASAN_OPTIONS=${ASAN_OPTIONS-malloc_context_size=0}
top=$(cd "$(dirname "$0")/.." && pwd)
runs=10000000 jobs=$(nproc) seconds=0 out=$top/out/fuzz-long

usage() { echo "usage: fuzz/long-run.sh [-r RUNS] [-j JOBS] [-t SECONDS] [-o OUT] [TARGET...]" >&2; exit 2; }
while getopts r:j:t:o: opt; do
    case $opt in
        r) runs=$OPTARG ;;
        j) jobs=$OPTARG ;;
        t) seconds=$OPTARG ;;
        o) out=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "long-run: -r '$runs': not a positive count" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]?$ ]] || { echo "long-run: -j '$jobs': not a job count" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] || { echo "long-run: -t '$seconds': not a number of seconds" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "long-run: clang++ not found (apt-get install clang)" >&2; exit 2; }

# The targets, as fuzz/CMakeLists.txt lists them: the one list.
mapfile -t targets < <(sed -n 's/^foreach(target \(.*\))$/\1/p' "$top/fuzz/CMakeLists.txt" | tr ' ' '\n')
[ ${#targets[@]} -gt 0 ] || { echo "long-run: no targets in fuzz/CMakeLists.txt" >&2; exit 2; }
if [ $# -gt 0 ]; then
    chosen=()
    for name in "$@"; do
        [[ " ${targets[*]} " == *" fuzz_$name "* ]] ||
            { echo "long-run: '$name': not a target (${targets[*]#fuzz_})" >&2; exit 2; }
        chosen+=("fuzz_$name")
    done
    targets=("${chosen[@]}")
fi

build=$out/build
mkdir -p "$out/artifacts"
cmake -S "$top" -B "$build" -G Ninja -DBUILD_TESTING=OFF -DCMAKE_CXX_COMPILER=clang++ \
    -DXA_FUZZ=ON -DXA_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >/dev/null

# run_one TARGET: the run, then its summary line from libFuzzer's final stats.
run_one() {
    local t=$1 name=${1#fuzz_} log=$out/$1.log corpus=$out/corpus/${1#fuzz_} rc=0 start execs secs n
    mkdir -p "$corpus"
    start=$(date +%s)
    "$build/fuzz/$t" -runs="$runs" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name-" "$corpus" "$top/fuzz/corpus/$name" \
        >"$log" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    n=$(find "$corpus" -type f | wc -l)
    printf '%-14s %10s execs %6s s %8s exec/s corpus %5s crashes=%s%s\n' "$name" "${execs:-?}" \
        "$secs" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "$n" \
        "$([ "$rc" = 0 ] && echo 0 || echo "1 (exit $rc, see $log)")" \
        "$([ "${execs:-0}" -ge "$runs" ] || echo " (stopped by -t before $runs)")"
    return "$rc"
}

status=0 running=0
: >"$out/long-run.txt"
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
    run_one "$t" | tee -a "$out/long-run.txt" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit $status
