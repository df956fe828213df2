#!/bin/bash
# Unpack Debian's linux-source-6.1 tarball into DIR/linux-source-6.1 once per tarball
# content and print the tree's path. The tree stays pristine: merges and builds use
# O=objtree (kbuild.sh puts its objtrees in direct subdirectories obj-FLAVOUR, which
# kbuild supports and which leave the sources untouched).
# Usage: unpack-source.sh [--tarball FILE] [DIR]
#   FILE  default /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1)
#   DIR   default $XA_CACHE/kernel (XA_CACHE default /var/cache/xen-autoload-ci)
# Exit: 0 tree ready; 2 tarball missing or not a linux-source-6.1 tarball.
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
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    # Unpack beside, then swap: an interrupted unpack never looks complete.
    rm -rf "$tree" "$top/unpack.tmp"
    mkdir -p "$top/unpack.tmp"
    tar -xf "$tarball" -C "$top/unpack.tmp"
    if [ ! -f "$top/unpack.tmp/linux-source-6.1/Makefile" ]; then
        rm -rf "$top/unpack.tmp"
        echo "unpack-source: $tarball: no linux-source-6.1/Makefile inside" >&2
        exit 2
    fi
    mv "$top/unpack.tmp/linux-source-6.1" "$tree"
    rmdir "$top/unpack.tmp"
    echo "$sum" >"$stamp"
fi
echo "$tree"
