#!/bin/bash
# Unpack Debian's linux-source-6.1 tarball into DIR/linux-source-6.1 once per tarball
# content and print the tree's path. The tree stays pristine: merges and builds use
# O=objtree (kbuild.sh puts its objtrees in direct subdirectories obj-FLAVOUR, which
# kbuild supports and which leave the sources untouched).
# Usage: unpack-source.sh [--tarball FILE] [DIR]
#   FILE  default /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1)
#   DIR   default $XA_CACHE/kernel (XA_CACHE default /var/cache/xen-autoload-ci)
# Exit: 0 tree ready; 2 tarball missing or not a linux-source-6.1 tarball.
# Concurrent runs on one DIR: one unpacks (flock on DIR/.unpack.lock, at most 1800 s of
# waiting), the others wait and reuse the tree. No ci/lib.sh: package builds run this too.
set -euo pipefail
tarball=/usr/src/linux-source-6.1.tar.xz
if [ "${1:-}" = --tarball ]; then
    tarball=${2:-}
    shift 2
fi
top=${1:-${XA_CACHE:-/var/cache/xen-autoload-ci}/kernel}
if [ ! -f "$tarball" ]; then
    echo "unpack-source: $tarball: missing (Debian: install linux-source-6.1, ci/install-deps.sh kernel)" >&2
    exit 2
fi
mkdir -p "$top"
top=$(cd "$top" && pwd)
tree=$top/linux-source-6.1
stamp=$tree/.xa-tarball-sha256
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
current() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; }
if ! current; then
    exec 9>>"$top/.unpack.lock"
    flock -w 1800 9 || { echo "unpack-source: $top/.unpack.lock: still locked after 1800 s" >&2; exit 2; }
    if ! current; then  # another run may have unpacked it while we waited
        # Unpack beside, then swap: an interrupted unpack never looks complete.
        rm -rf "$tree" "$top"/unpack.tmp*  # a killed run's leftovers too (we hold the lock)
        tmp=$(mktemp -d "$top/unpack.tmp.XXXXXX")
        tar -xf "$tarball" -C "$tmp"
        if [ ! -f "$tmp/linux-source-6.1/Makefile" ]; then
            rm -rf "$tmp"
            echo "unpack-source: $tarball: no linux-source-6.1/Makefile inside" >&2
            exit 2
        fi
        echo "$sum" >"$tmp/linux-source-6.1/.xa-tarball-sha256"
        mv "$tmp/linux-source-6.1" "$tree"
        rmdir "$tmp"
    fi
    exec 9>&-
fi
echo "$tree"
