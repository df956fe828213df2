#!/bin/bash
# The boots' fixture capture (ci/boot/capture-fixture.sh) keeps everything detection reads:
# each fixture root of tests/fixtures/, captured as if it were the running system
# (SYSROOT=), gives `xen-autoload detect --root` the same answer as the fixture itself.
# Usage: capture-fixture-test.sh XEN_AUTOLOAD
set -euo pipefail
cli=${1:?usage: capture-fixture-test.sh XEN_AUTOLOAD}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fields='[.hypervisor, .role, .guest_type, .xen_version, .kernel] | @json'
fails=0 n=0
for dir in "$top"/tests/fixtures/*/; do
    f=$(basename "$dir")
    SYSROOT=${dir%/} "$top/ci/boot/capture-fixture.sh" "$out/$f"
    want=$("$cli" detect --root "$dir" --json | jq -r "$fields")
    got=$("$cli" detect --root "$out/$f" --json | jq -r "$fields")
    n=$((n + 1))
    if [ "$got" != "$want" ]; then
        echo "FAIL: $f: the fixture says $want, its capture $got" >&2
        fails=$((fails + 1))
    fi
done
# A capture never overwrites: DEST must not exist.
if "$top/ci/boot/capture-fixture.sh" "$out/native" 2>/dev/null; then
    echo "FAIL: capture-fixture.sh wrote into an existing $out/native" >&2
    fails=$((fails + 1))
fi
[ "$fails" = 0 ] && echo "capture-fixture: $n fixture roots captured, detect agrees on each"
exit $((fails > 0))
