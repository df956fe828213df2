#!/bin/bash
# Run the CTest suite the way a distribution package build must: without network and
# without root. Excluded, with the reason printed:
#   - tests that set up or require a CTest fixture (the module tree and kernel config
#     fixtures download Debian packages);
#   - tests labelled integration, moduletree or kernel-tree (real images, real netlink,
#     the kernel source tree);
#   - tests labelled root (need privileges).
# Everything else runs; the full suite runs in the pipeline (ci/run-tests.sh, as root).
# Used by debian/rules (dh_auto_test) and rpm/xen-autoload.spec (%check).
# Usage: tests/packaging/ctest-hermetic.sh BUILD_DIR [CTEST_ARG...]     run them
#        tests/packaging/ctest-hermetic.sh --exclude-regex BUILD_DIR      print ctest's -E value
set -euo pipefail
print_regex=0
if [ "${1:-}" = --exclude-regex ]; then
    print_regex=1
    shift
fi
build=${1:?usage: ctest-hermetic.sh [--exclude-regex] BUILD_DIR [CTEST_ARG...]}
shift

excluded=$(ctest --test-dir "$build" --show-only=json-v1 | jq -r '
    .tests[] | . as $t
    | ([.properties[]? | {(.name): .value}] | add // {}) as $p
    | (if $p.FIXTURES_SETUP then "sets up fixture \($p.FIXTURES_SETUP | join(","))"
       elif $p.FIXTURES_REQUIRED then "requires fixture \($p.FIXTURES_REQUIRED | join(","))"
       elif ([$p.LABELS[]? | select(test("^(integration|moduletree|kernel-tree|root)$"))] | length) > 0
         then "label \($p.LABELS | join(","))"
       else empty end) as $why
    | "\($t.name)\t\($why)"')
total=$(ctest --test-dir "$build" --show-only=json-v1 | jq '.tests | length')
if [ -z "$excluded" ]; then
    # A regex no test name matches (an empty one would match, and exclude, every test).
    [ $print_regex -eq 0 ] || { echo '^$'; exit 0; }
    exec ctest --test-dir "$build" --output-on-failure "$@"
fi
# One anchored alternative per name, regex metacharacters escaped.
regex="^($(cut -f1 <<<"$excluded" | sed 's/[][\.*^$+?(){}|/]/\\&/g' | paste -sd'|'))\$"
if [ $print_regex -eq 1 ]; then
    echo "$regex"
    # The reasons go to stderr, into the build log.
    while IFS= read -r line; do echo "ctest-hermetic: excluded: $line"; done <<<"$excluded" >&2
    exit 0
fi
echo "ctest-hermetic: excluding $(wc -l <<<"$excluded") of $total tests (they need network or root; the pipeline runs them):"
while IFS= read -r line; do echo "  $line"; done <<<"$excluded"
exec ctest --test-dir "$build" --output-on-failure -E "$regex" "$@"
