#!/bin/bash
# Print the path of a cached Debian 12 minbase tarball for piuparts and autopkgtest,
# made with mmdebstrap from the machine's own apt sources; rebuilt when older than 7 days.
# Concurrent runs: one builds it (lock base-tarball-SUITE, ci/lib.sh xa_cache_build), the
# others wait and reuse it; it is replaced by one rename, so a reader never sees half of it.
# Usage: tests/packaging/base-tarball.sh   (prints the path on stdout, progress on stderr)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

suite=bookworm
tarball=$XA_CACHE/$suite-minbase.tar.gz

# build_tarball NEW: mmdebstrap SUITE minbase into the tarball NEW.
build_tarball() {
    local new=$1 rc=0
    xa_say "base-tarball: mmdebstrap $suite minbase -> $tarball"
    # The downloaded .debs are shared with the image stage's cache (sync-in/sync-out).
    xa_debs_begin "$XA_CACHE/debs/$suite"
    # shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook, not here
    xa_apt_sources | nice -n 10 mmdebstrap --mode=root --variant=minbase --format=tar \
        --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
        --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
        --skip=essential/unlink \
        --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
        "$suite" "$new.tar.gz" - >&2 || rc=$?
    xa_debs_end
    [ "$rc" -eq 0 ] && mv "$new.tar.gz" "$new"
}

xa_cache_build --max-age 7 "base-tarball-$suite" "$tarball" build_tarball >&2
echo "$tarball"
