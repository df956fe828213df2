#!/bin/bash
# Build the PV test guest's initramfs from a Debian root: busybox-static, and the
# xen-blkfront and xen-netfront modules of kernel KVER (the guest boots the dom0's kernel).
# The guest's /init (guest-init.sh) waits for xvda and eth0, writes a marker to xvda and
# waits for the dom0 to shut it down.
# Usage: make-guest-initramfs.sh ROOT KVER OUTPUT
set -euo pipefail
root=${1:?usage: make-guest-initramfs.sh ROOT KVER OUTPUT}
kver=${2:?KVER}
output=${3:?OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)

[ -x "$root/bin/busybox" ] || { echo "$root/bin/busybox: missing (busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,dev,proc,sys,run,lib/modules}
cp "$root/bin/busybox" "$work/bin/busybox"
for mod in xen-blkfront xen-netfront; do
    path=$(find "$root/lib/modules/$kver" -name "$mod.ko*" | head -n 1)
    [ -n "$path" ] || { echo "$root/lib/modules/$kver: no $mod module" >&2; exit 1; }
    # busybox insmod takes plain ELF modules only.
    case $path in
        *.ko) cp "$path" "$work/lib/modules/$mod.ko" ;;
        *.ko.xz) xz -dc "$path" >"$work/lib/modules/$mod.ko" ;;
        *.ko.zst) zstd -qdc "$path" >"$work/lib/modules/$mod.ko" ;;
        *) echo "$path: unknown module compression" >&2; exit 1 ;;
    esac
done
install -m 0755 "$here/guest-init.sh" "$work/init"
# xl shutdown makes the guest kernel run /sbin/poweroff (orderly_poweroff).
install -m 0755 "$here/guest-poweroff.sh" "$work/sbin/poweroff"
mkdir -p "$(dirname "$output")"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -9) >"$output.tmp"
mv "$output.tmp" "$output"
