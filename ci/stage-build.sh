#!/bin/bash
# The pipeline's build stage: the README's test command (ci/run-tests.sh), then the same
# tests under ASan+UBSan, the parallel loader under TSan, the fuzzers (briefly), clang-tidy,
# clang-format, shellcheck of every shell script, a plain Release build as a user would
# configure it, and the engine benchmarks. Each step is
# one check (xa_check); benchmark figures are metrics (xa_metric).
# Checks run as functions through step(): shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

stage=build
logs=$XA_OUT/build-logs
mkdir -p "$logs"
export CMAKE_CXX_COMPILER_LAUNCHER=ccache
jobs=${XA_JOBS:-2}
failed=0

# step NAME COMMAND...: runs one check, its output in $logs/NAME.log (tail shown on failure).
step() {
    local name=$1 start
    shift
    start=$(xa_now)
    if "$@" >"$logs/$name.log" 2>&1; then
        xa_check "$stage" "$name" pass "$(( $(xa_now) - start )) s"
    else
        tail -n 40 "$logs/$name.log" >&2
        xa_check "$stage" "$name" fail "see $logs/$name.log"
        failed=1
    fi
}

# 1. The README's test command: builds $XA_OUT/build and runs every CTest test.
start=$(xa_now)
if "$here/run-tests.sh" 2>&1 | tee "$logs/tests.log"; then
    xa_check "$stage" tests pass "$(grep -E 'tests passed' "$logs/tests.log" | tail -n1)"
else
    xa_check "$stage" tests fail "$(grep -E 'tests passed' "$logs/tests.log" | tail -n1)"
    failed=1
fi
xa_metric "$stage" tests-seconds "$(( $(xa_now) - start ))" s
build=$XA_OUT/build

# The sanitizer builds at -O1 with line tables only (-g1): what the ASan and TSan manuals
# advise, and the reports keep file:line in every frame; they compile in about half the
# time of RelWithDebInfo's -O2 -g (docs/measurements.md, 2026-12-07). NDEBUG as before.
san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

# 2. ASan+UBSan: the engine's tests (label engine: units, CLI, the real module tree). Only
#    their targets are built: a sanitized build of every test program doubles the stage.
asan() {
    cmake -S "$XA_TOP" -B "$XA_OUT/build-asan" -G Ninja -DXA_WERROR=ON "${san_flags[@]}" \
        -DXA_SANITIZE=address,undefined &&
        nice -n 10 cmake --build "$XA_OUT/build-asan" -j "$jobs" --target xen-autoload xa-unit-tests \
            xa-moduletree-tests &&
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
            ctest --test-dir "$XA_OUT/build-asan" --output-on-failure -j "$jobs" -L engine --timeout 300
}
step asan-ubsan asan

# 3. TSan: the parallel loader (worker threads, one libkmod context each).
tsan() {
    cmake -S "$XA_TOP" -B "$XA_OUT/build-tsan" -G Ninja -DXA_WERROR=ON "${san_flags[@]}" \
        -DXA_SANITIZE=thread &&
        nice -n 10 cmake --build "$XA_OUT/build-tsan" -j "$jobs" --target xa-unit-tests &&
        TSAN_OPTIONS=halt_on_error=1 "$XA_OUT/build-tsan/tests/xa-unit-tests" --gtest_filter='Loader.*' \
            --gtest_repeat=3
}
step tsan-loader tsan

# 4. Fuzzers (clang, libFuzzer + ASan/UBSan): every target in fuzz/CMakeLists.txt, 10 s
# each by default from its seed corpus (fuzz/corpus/NAME) and the corpus the runs before
# grew ($XA_OUT/fuzz-corpus/NAME). $jobs targets at a time (each is one process); each
# one's output goes to the step's log after it ends.
# The names, from fuzz/CMakeLists.txt (the one list; fuzz/long-run.sh reads it too).
mapfile -t fuzz_targets < <(sed -n 's/^foreach(target \(.*\))$/\1/p' "$XA_TOP/fuzz/CMakeLists.txt" |
    tr ' ' '\n' | sed 's/^fuzz_//')
[ ${#fuzz_targets[@]} -gt 0 ] || xa_die "stage build: no fuzz targets in fuzz/CMakeLists.txt"
# The coverage ignorelist is passed by its absolute path, which ccache does not make
# relative: hashed by its content instead (EXTRAFILES), so a fresh clone hits the cache.
fuzz() {
    cmake -S "$XA_TOP" -B "$XA_OUT/build-fuzz" -G Ninja -DXA_WERROR=ON -DBUILD_TESTING=OFF \
        -DCMAKE_CXX_COMPILER=clang++ -DXA_FUZZ=ON -DXA_SANITIZE=address,undefined \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
        CCACHE_IGNOREOPTIONS='-fsanitize-coverage-ignorelist=*' \
            CCACHE_EXTRAFILES=$XA_TOP/fuzz/coverage-ignorelist.txt \
            nice -n 10 cmake --build "$XA_OUT/build-fuzz" -j "$jobs" \
            --target "${fuzz_targets[@]/#/fuzz_}" || return 1
    local t p corpus rc=0 i=0
    local -a running=()
    for t in "${fuzz_targets[@]}"; do
        corpus=$XA_OUT/fuzz-corpus/$t
        mkdir -p "$corpus"
        "$XA_OUT/build-fuzz/fuzz/fuzz_$t" -max_total_time="${XA_FUZZ_SECONDS:-10}" -timeout=10 \
            "$corpus" "$XA_TOP/fuzz/corpus/$t" >"$logs/fuzz-$t.log" 2>&1 &
        running+=($!)
        i=$((i + 1))
        if [ ${#running[@]} -ge "$jobs" ] || [ "$i" -eq ${#fuzz_targets[@]} ]; then
            for p in "${running[@]}"; do wait "$p" || rc=1; done
            running=()
        fi
    done
    for t in "${fuzz_targets[@]}"; do
        echo "== fuzz_$t"
        cat "$logs/fuzz-$t.log"
    done
    return "$rc"
}
step fuzz fuzz

# 5. clang-tidy (.clang-tidy at the top), every engine source, zero findings. A source
#    that passed before, with the same content, the same headers, build files, checks and
#    clang-tidy, is not checked again: a clean verdict leaves a stamp named by the hash of
#    all that in $XA_CACHE/tidy-clean (written whole by a rename, so concurrent runs only
#    ever add the same stamp). A cold run checks every file.
tidy() {
    local stamps=$XA_CACHE/tidy-clean common f key skipped=0
    local -a todo=() keys=()
    mkdir -p "$stamps"
    common=$( {
        clang-tidy --version
        cd "$XA_TOP" && git ls-files -z .clang-tidy '*CMakeLists.txt' 'cmake/*' 'src/*.h' |
            sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-64)
    while IFS= read -r -d '' f; do
        key=$( { echo "$common"; cat "$f"; } | sha256sum | cut -c1-64)
        if [ -e "$stamps/$key" ]; then
            skipped=$((skipped + 1))
        else
            todo+=("$f") keys+=("$key")
        fi
    done < <(find "$XA_TOP/src" -name '*.cpp' -print0 | sort -z)
    echo "clang-tidy: ${#todo[@]} files to check, $skipped unchanged since a clean check ($stamps)"
    if [ ${#todo[@]} -gt 0 ]; then
        printf '%s\0' "${todo[@]}" | xargs -0 -n 4 -P "$jobs" clang-tidy -p "$build" --quiet ||
            return 1
    fi
    for key in "${keys[@]}"; do
        : >"$stamps/$key.tmp.$$" && mv "$stamps/$key.tmp.$$" "$stamps/$key"
    done
}
step clang-tidy tidy

# Every file of the repo, committed or not yet (new files of this change), minus ignored ones.
repo_files() { git -C "$XA_TOP" ls-files -z --cached --others --exclude-standard; }

# 6. clang-format (.clang-format), every C++ file.
format() {
    cd "$XA_TOP" && repo_files | grep -z -E '\.(cpp|h|hpp)$' | xargs -0 -r clang-format --dry-run --Werror
}
step clang-format format

# 7. shellcheck: every *.sh and every file whose first line is a sh/bash shebang.
shell() {
    cd "$XA_TOP" || return 1
    local f list=()
    while IFS= read -r -d '' f; do
        [ -f "$f" ] || continue
        case $f in
            *.sh) list+=("$f") ;;
            *) head -n1 "$f" 2>/dev/null | grep -qE '^#!.*(/|env )(ba)?sh\b' && list+=("$f") ;;
        esac
    done < <(repo_files)
    echo "shellcheck: ${#list[@]} files"
    shellcheck -x -P SCRIPTDIR "${list[@]}"
}
step shellcheck shell

# 8. As a user builds it: a plain Release configure, no option (XA_WERROR is off by default,
#    GCC's -O3 warnings must not break it), then the binary. Default generator, own tree.
release() {
    cmake -S "$XA_TOP" -B "$XA_OUT/build-release" -DCMAKE_BUILD_TYPE=Release &&
        nice -n 10 cmake --build "$XA_OUT/build-release" -j "$jobs" --target xen-autoload
}
step release-build release

# 8b. The GitLab job graph (.gitlab-ci.yml) read by gitlab-ci-local agrees with the pipeline.
step gitlab-graph "$XA_TOP/tests/ci/gitlab-graph-test.sh"

# 9. Benchmarks (bench/engine-bench.sh): figures as metrics; the issue's goals as checks.
bench() {
    "$XA_TOP/bench/engine-bench.sh" "$build/src/autoload/xen-autoload" "$build/module-tree" "$XA_TOP" \
        "${XA_BENCH_RUNS:-500}" "$logs/bench.metrics"
}
rm -f "$logs/bench.metrics"
step bench bench
if [ -f "$logs/bench.metrics" ]; then
    while read -r name value unit; do
        xa_metric "$stage" "engine-$name" "$value" "$unit"
    done <"$logs/bench.metrics"
    goal() {  # NAME METRIC OP LIMIT [UNIT]
        xa_goal "$stage" "$1" "$(awk -v m="$2" '$1 == m { print $2 }' "$logs/bench.metrics")" "$3" "$4" "${5:-}"
    }
    goal "bench: detect vs /bin/true" detect-vs-true "<=" 1.5
    goal "bench: detect vs systemd-detect-virt" detect-vs-systemd-detect-virt "<=" 0.3
    goal "bench: plan dom0 vs /bin/true" plan-vs-true "<=" 5
    # Size is deterministic (unlike timings): a requirement, not a goal.
    size=$(awk '$1 == "stripped-size" { print $2 }' "$logs/bench.metrics")
    if [ -n "$size" ] && [ "$size" -lt 512000 ]; then
        xa_check "$stage" "stripped binary < 500 KiB" pass "$size bytes"
    else
        xa_check "$stage" "stripped binary < 500 KiB" fail "${size:-no figure} bytes"
        failed=1
    fi
fi
# Only libkmod, libsystemd and the C/C++ runtime (the first two may also be dlopen()ed).
needed_list=$(readelf -d "$build/src/autoload/xen-autoload" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
needed=$(echo "$needed_list" | tr '\n' ' ')
extra=$(echo "$needed_list" | grep -vE '^(libkmod\.so\.2|libsystemd\.so\.0|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2)$' || true)
if [ -z "$extra" ]; then
    xa_check "$stage" "linked libraries" pass "$needed"
else
    xa_check "$stage" "linked libraries" fail "unexpected: $extra"
    failed=1
fi

exit $failed
