#!/bin/bash
# The initramfs of stage arm64's boots: busybox (static), bash (for capture-fixture.sh), the
# arm64 package's files with the libraries its binary and libkmod need (as the arm64
# dynamic loader resolves them in the build root), the Xen modules of Debian's arm64 kernel
# with their dependencies (depmod'ed), and ci/arm64/init as /init.
# Usage: make-initramfs.sh ROOT TREE KVER DEBS OUT
#   ROOT  the build root (arm64 libraries and /lib/ld-linux-aarch64.so.1; binfmt_misc runs it)
#   TREE  the package's files over Debian's arm64 module tree (lib/modules/KVER), inside ROOT
#   DEBS  a directory with the arm64 .debs of busybox-static, bash and libtinfo6
#   OUT   the gzip'ed cpio to write
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: make-initramfs.sh ROOT TREE KVER DEBS OUT" >&2; exit 2; }
root=$1 tree=$2 kver=$3 debs=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
case $tree in "$root"/*) ;; *) echo "make-initramfs: $tree is not inside $root" >&2; exit 2 ;; esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for pkg in busybox-static bash libtinfo6; do
    deb=$(compgen -G "$debs/${pkg}_*_arm64.deb" | head -n 1) ||
        { echo "make-initramfs: no $pkg arm64 .deb in $debs" >&2; exit 1; }
    dpkg-deb -x "$deb" "$stage"
done
rm -rf "${stage:?}/usr/share"
mkdir -p "$stage"/{proc,sys,dev,run,tmp,usr/lib/xa,usr/sbin,etc/xen-autoload}
cp -a "$tree/usr/sbin/." "$stage/usr/sbin/"
cp -a "$tree/usr/lib/xen-autoload" "$stage/usr/lib/"
cp -a "$here/init" "$stage/init"
cp -a "$here/../boot/capture-fixture.sh" "$stage/usr/lib/xa/capture-fixture.sh"

# The libraries, as the arm64 loader resolves them in ROOT (run by binfmt_misc).
# shellcheck disable=SC2016 # the inner script's own variables
libs() { # libs PATH-IN-ROOT...
    unshare --mount --propagation private -- /bin/bash -c '
        r=$1; shift
        mount -t proc proc "$r/proc" || exit 1
        for f in "$@"; do chroot "$r" /lib/ld-linux-aarch64.so.1 --list "$f" || exit 1; done' \
        libs "$root" "$@" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/lib[^ ]*ld-linux[^ ]*\) .*/\1/p' | sort -u
}
mapfile -t needed < <(libs "${tree#"$root"}/usr/sbin/xen-autoload" /usr/lib/aarch64-linux-gnu/libkmod.so.2)
needed+=(/usr/lib/aarch64-linux-gnu/libkmod.so.2)
[ ${#needed[@]} -gt 2 ] || { echo "make-initramfs: the arm64 loader resolved no libraries" >&2; exit 1; }
for lib in "${needed[@]}"; do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$root$lib" "$stage$lib"
done

# The modules the shipped policy names (its require and optional lines), with their
# dependencies (modprobe reads the arm64 tree's index on this host), and the indexes
# rebuilt for that set.
src=$tree/lib/modules/$kver
dst=$stage/lib/modules/$kver
mkdir -p "$dst"
mapfile -t policy_modules < <(awk '$1 == "require" || $1 == "optional" { for (i = 3; i <= NF; i++) print $i }' \
    "$tree/usr/lib/xen-autoload/default.conf" | sort -u)
[ ${#policy_modules[@]} -gt 0 ] || { echo "make-initramfs: no module in the shipped policy" >&2; exit 1; }
for m in "${policy_modules[@]}"; do
    # A module this kernel lacks (xen-acpi-processor on arm64) adds nothing.
    { modprobe -d "$tree" -S "$kver" --show-depends "$m" 2>/dev/null || true; } | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
    rel=${ko#"$tree"/lib/modules/"$kver"/}
    mkdir -p "$dst/$(dirname "$rel")"
    cp "$ko" "$dst/$rel"
done
cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo "$dst/" 2>/dev/null || true
depmod -b "$stage" "$kver"
[ -n "$(find "$dst" -name 'xen-netback.ko*')" ] || { echo "make-initramfs: xen-netback not in $src" >&2; exit 1; }

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n >"$out.tmp"
mv "$out.tmp" "$out"
