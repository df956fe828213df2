#!/bin/bash
# Print the path of a cached Debian 12 minbase tarball for piuparts and autopkgtest,
# made with mmdebstrap from the machine's own apt sources; rebuilt when older than 7 days.
# Usage: tests/packaging/base-tarball.sh   (prints the path on stdout, progress on stderr)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

suite=bookworm
tarball=$XA_CACHE/$suite-minbase.tar.gz
deb_cache=$XA_CACHE/debs/$suite
if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime -7)" ]; then
    echo "$tarball"
    exit 0
fi
mkdir -p "$deb_cache"
xa_say "base-tarball: mmdebstrap $suite minbase -> $tarball"
# The downloaded .debs are shared with the image stage's cache (sync-in/sync-out).
# shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook, not here
xa_apt_sources | nice -n 10 mmdebstrap --mode=root --variant=minbase --format=tar \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
    --setup-hook="sync-in $deb_cache /var/cache/apt/archives/" \
    --skip=essential/unlink \
    --customize-hook="sync-out /var/cache/apt/archives $deb_cache" \
    "$suite" "$tarball.tmp.tar.gz" - >&2
mv "$tarball.tmp.tar.gz" "$tarball"
echo "$tarball"
