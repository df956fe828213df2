#!/bin/bash
# Unpack Debian's linux-source-6.1 into $XA_CACHE/kernel once per package version and
# print the tree's path. The tree stays pristine: every build and merge uses O=objtree.
# Exit: 0 tree ready; 2 linux-source-6.1 not installed (ci/install-deps.sh kernel).
set -euo pipefail
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
tarball=/usr/src/linux-source-6.1.tar.xz
if ! version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) || [ ! -f "$tarball" ]; then
    echo "unpack-source: $tarball: missing (install linux-source-6.1: ci/install-deps.sh kernel)" >&2
    exit 2
fi
top=$XA_CACHE/kernel
tree=$top/linux-source-6.1
stamp=$tree/.xa-source-version
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$version" ]; then
    # Unpack beside, then swap: an interrupted unpack never looks complete.
    rm -rf "$tree" "$top/unpack.tmp"
    mkdir -p "$top/unpack.tmp"
    tar -xf "$tarball" -C "$top/unpack.tmp"
    mv "$top/unpack.tmp/linux-source-6.1" "$tree"
    rmdir "$top/unpack.tmp"
    echo "$version" >"$stamp"
fi
echo "$tree"
