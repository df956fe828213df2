#!/bin/bash
# Reproducible packages: build the .debs a second time from the same source with what
# reprotest varies (build path, umask, time zone, locale, host name, no compiler cache)
# and compare every .deb with the first build's; diffoscope explains any difference.
# Usage: tests/packaging/reproducible.sh SOURCE_DIR FIRST_DEBS_DIR LOG_DIR
#   SOURCE_DIR      the clean source copy the first build used (not modified: copied)
#   FIRST_DEBS_DIR  the first build's .debs
# Exit: 0 every .deb identical; 1 a difference (diffoscope output in LOG_DIR); 2 usage or
# the second build failed.
set -euo pipefail
src=${1:?usage: reproducible.sh SOURCE_DIR FIRST_DEBS_DIR LOG_DIR}
first=${2:?usage: reproducible.sh SOURCE_DIR FIRST_DEBS_DIR LOG_DIR}
logs=${3:?usage: reproducible.sh SOURCE_DIR FIRST_DEBS_DIR LOG_DIR}
mkdir -p "$logs"
tmp=$(mktemp -d /tmp/xa-repro.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Another path, deeper and with another name: paths must not leak into the packages.
second=$tmp/elsewhere/build-path-two/$(basename "$src")
mkdir -p "$(dirname "$second")"
cp -a "$src" "$second"
(cd "$second" && rm -rf debian/.debhelper debian/files obj-* ./*.deb)

# The second build, varied: umask, TZ, locale, host name (a private UTS namespace), and no
# ccache, so that each object really is compiled again. Tests already ran in the first.
if ! (cd "$second" && umask 0002 &&
    env -u CCACHE_DIR CCACHE_DISABLE=1 TZ=Pacific/Kiritimati LANG=C.UTF-8 LC_ALL=C.UTF-8 \
        DEB_BUILD_OPTIONS="nocheck parallel=2" \
        unshare --uts sh -c 'hostname xa-repro-second-host && exec nice -n 10 dpkg-buildpackage -us -uc -b') \
    >"$logs/reproducible-build.log" 2>&1; then
    tail -n 30 "$logs/reproducible-build.log" >&2
    echo "reproducible: the second build failed (see $logs/reproducible-build.log)" >&2
    exit 2
fi

status=0 same=()
for deb in "$first"/*.deb; do
    name=$(basename "$deb")
    other=$(dirname "$second")/$name
    if [ ! -f "$other" ]; then
        echo "reproducible: $name: the second build did not make it" >&2
        status=1
        continue
    fi
    if cmp -s "$deb" "$other"; then
        same+=("${name%%_*}")
    else
        echo "reproducible: $name differs (diffoscope: $logs/diffoscope-${name%%_*}.txt)" >&2
        diffoscope --text "$logs/diffoscope-${name%%_*}.txt" "$deb" "$other" >/dev/null 2>&1 || true
        status=1
    fi
done
[ ${#same[@]} -gt 0 ] || { echo "reproducible: no .deb in $first" >&2; exit 2; }
[ $status -eq 0 ] && echo "reproducible: ${#same[@]} identical: ${same[*]}"
exit $status
