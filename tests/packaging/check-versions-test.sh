#!/bin/bash
# ci/check-versions.sh must accept the tree as it is and reject a changelog or a spec whose
# version differs from project(VERSION), naming the file, the field and the value.
# Usage: tests/packaging/check-versions-test.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

copy() { # a scratch tree holding just what check-versions.sh reads
    rm -rf "$work/t"
    mkdir -p "$work/t/ci" "$work/t/debian" "$work/t/rpm"
    cp "$top/ci/check-versions.sh" "$work/t/ci/"
    cp "$top/CMakeLists.txt" "$work/t/"
    cp "$top/debian/changelog" "$work/t/debian/"
    cp "$top/rpm/xen-autoload.spec" "$work/t/rpm/"
}
version=$("$top/ci/check-versions.sh")
echo "ok: the tree agrees on $version"

copy
sed -i -E '0,/^Version:/s/^Version:.*/Version:        9.9.9/' "$work/t/rpm/xen-autoload.spec"
rc=0
err=$("$work/t/ci/check-versions.sh" 2>&1) || rc=$?
if [ $rc -ne 1 ] || ! grep -q "xen-autoload.spec: field Version: '9.9.9'" <<<"$err"; then
    echo "FAIL: spec 9.9.9 not rejected (exit $rc): $err"
    exit 1
fi
echo "ok: spec mismatch rejected: $err"

copy
sed -i -E "1s/\\(([^)]*)\\)/(9.9.9-1)/" "$work/t/debian/changelog"
rc=0
err=$("$work/t/ci/check-versions.sh" 2>&1) || rc=$?
if [ $rc -ne 1 ] || ! grep -q "changelog: field Version: '9.9.9-1'" <<<"$err"; then
    echo "FAIL: changelog 9.9.9-1 not rejected (exit $rc): $err"
    exit 1
fi
echo "ok: changelog mismatch rejected: $err"
echo "check-versions: accepts $version, rejects a mismatched spec and changelog"
