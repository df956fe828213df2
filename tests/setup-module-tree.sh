#!/bin/bash
# Builds a real Debian 6.1 module tree for the tests: downloads the current
# linux-image-6.1.0-NN-amd64 package (or reuses the cached .deb), extracts it below DEST
# (never into /) and runs depmod -b. DEST then works as a --root: it also gets
# proc/sys/kernel/osrelease, an empty proc/modules and sys/module.
# Usage: tests/setup-module-tree.sh DEST      (prints the kernel release)
set -euo pipefail
dest=${1:?usage: setup-module-tree.sh DEST}
cache=${XA_CACHE:-/var/cache/xen-autoload-ci}/debs

# The kernel package linux-image-amd64 points at, e.g. linux-image-6.1.0-56-amd64.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9]*-[0-9]*-amd64\(-unsigned\)\?\)$/\1/p' | head -n1)
if [ -z "$pkg" ]; then
    echo "setup-module-tree: apt-cache knows no linux-image-6.1 package (run apt-get update)" >&2
    exit 1
fi
kver=${pkg#linux-image-}
kver=${kver%-unsigned}

if [ -f "$dest/root/lib/modules/$kver/modules.dep.bin" ] && [ -f "$dest/root/proc/sys/kernel/osrelease" ]; then
    echo "$kver"
    exit 0
fi

mkdir -p "$cache"
deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -n1)
if [ -z "$deb" ]; then
    # apt-get download writes into the current directory; a deadline for a stuck mirror.
    (cd "$cache" && timeout 600 apt-get download -q "$pkg" >&2)
    deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -n1)
fi
[ -n "$deb" ] || { echo "setup-module-tree: download of $pkg failed" >&2; exit 1; }

rm -rf "$dest/root.tmp"
mkdir -p "$dest/root.tmp"
# Only the module tree is needed; the rest of the package (vmlinuz, docs) stays out.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest/root.tmp" ./lib/modules
# bookworm ships modules.* indexes in the package? Rebuild them to be sure they match.
depmod -b "$dest/root.tmp" "$kver"
mkdir -p "$dest/root.tmp/proc/sys/kernel" "$dest/root.tmp/sys/module" "$dest/root.tmp/etc/modprobe.d"
echo "$kver" >"$dest/root.tmp/proc/sys/kernel/osrelease"
: >"$dest/root.tmp/proc/modules"
rm -rf "$dest/root"
mv "$dest/root.tmp" "$dest/root"
echo "$kver"
