#!/bin/bash
# The one version source is project(VERSION) in the top CMakeLists.txt. This checks that
# debian/changelog and rpm/xen-autoload.spec carry the same upstream version, so a release
# never ships mismatched packages.
# Usage: ci/check-versions.sh          prints the version; exit 0 if all agree, 1 if not,
#                                      2 if a version cannot be read at all.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

cmake_file=$top/CMakeLists.txt
changelog=$top/debian/changelog
spec=$top/rpm/xen-autoload.spec

# project(xen-autoload VERSION 1.2.3 ...): the first VERSION after project(.
cmake_version=$(sed -n -E 's/^[[:space:]]*project\([^)]*VERSION[[:space:]]+([0-9][0-9A-Za-z.]*).*/\1/p' \
    "$cmake_file" | head -n1)
# Upstream part of the Debian version: drop an epoch ("1:") and a Debian revision ("-1").
deb_full=$(dpkg-parsechangelog -l "$changelog" -S Version 2>/dev/null || true)
deb_upstream=${deb_full#*:}
deb_upstream=${deb_upstream%-*}
spec_version=$(sed -n -E 's/^Version:[[:space:]]*([^[:space:]]+).*/\1/p' "$spec" | head -n1)

need() { # need FILE FIELD VALUE: a version that cannot be read is a broken file
    [ -n "$3" ] || { echo "check-versions: $1: cannot read field $2" >&2; exit 2; }
}
need "$cmake_file" "project(VERSION)" "$cmake_version"
need "$changelog" Version "$deb_upstream"
need "$spec" Version "$spec_version"

status=0
if [ "$deb_upstream" != "$cmake_version" ]; then
    echo "check-versions: $changelog: field Version: '$deb_full' does not match project(VERSION) '$cmake_version' in $cmake_file (run: dch -v $cmake_version)" >&2
    status=1
fi
if [ "$spec_version" != "$cmake_version" ]; then
    echo "check-versions: $spec: field Version: '$spec_version' does not match project(VERSION) '$cmake_version' in $cmake_file" >&2
    status=1
fi
[ $status -ne 0 ] || echo "$cmake_version"
exit $status
