#!/bin/bash
# Builds a real Debian 6.1 module tree for the tests: downloads the current
# linux-image-6.1.0-NN-ARCH package (or reuses the cached .deb), extracts it below DEST
# (never into /) and runs depmod -b. DEST then works as a --root: it also gets
# proc/sys/kernel/osrelease, an empty proc/modules and sys/module.
# Usage: tests/setup-module-tree.sh DEST      (prints the kernel release)
# XA_KERNEL_ARCH=arm64 takes Debian's arm64 kernel (stage arm64, where apt knows arm64 as a
# foreign architecture); default amd64.
# The .deb is shared by concurrent runs: downloaded once (lock module-tree-deb, ci/lib.sh)
# into a private directory, then linked into the cache. DEST is this run's own.
set -euo pipefail
dest=${1:?usage: setup-module-tree.sh DEST}
# shellcheck source=../ci/lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/../ci/lib.sh"
cache=$XA_CACHE/debs
arch=${XA_KERNEL_ARCH:-amd64}
[[ $arch =~ ^[a-z0-9]+$ ]] || { echo "setup-module-tree: XA_KERNEL_ARCH '$arch': not an architecture" >&2; exit 2; }
# The kernel package linux-image-ARCH points at, e.g. linux-image-6.1.0-56-amd64 (apt adds
# :ARCH to a foreign architecture's packages).
pkg=$(apt-cache depends "linux-image-$arch:$arch" 2>/dev/null |
    sed -n "s/^ *Depends: \(linux-image-6\.1\.[0-9]*-[0-9]*-$arch\(-unsigned\)\?\)\(:$arch\)\?\$/\1/p" | head -n1)
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
find_deb() { find "$cache" -maxdepth 1 -name "${pkg}_*_$arch.deb" | sort -V | tail -n1; }
deb=$(find_deb)
if [ -z "$deb" ]; then
    xa_lock module-tree-deb
    deb=$(find_deb)  # another run may have fetched it while we waited
    if [ -z "$deb" ]; then
        rm -rf "$cache"/.download.*  # a killed run's: nobody else downloads, we hold the lock
        tmp=$(mktemp -d "$cache/.download.XXXXXX")
        # apt-get download writes into the current directory; a deadline for a stuck mirror.
        # The complete .deb is then linked into the cache: one atomic step.
        if (cd "$tmp" && timeout 600 apt-get download -q "$pkg:$arch" >&2); then
            for f in "$tmp/$pkg"_*_"$arch".deb; do
                [ ! -f "$f" ] || ln "$f" "$cache/${f##*/}" 2>/dev/null || true
            done
        fi
        rm -rf "$tmp"
        deb=$(find_deb)
    fi
    xa_unlock module-tree-deb
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
