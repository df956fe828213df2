#!/bin/bash
# Build the PV test guest's initramfs from a Debian root: busybox-static, and the
# xen-blkfront and xen-netfront drivers of kernel KVER (the guest boots the dom0's kernel).
# A driver the kernel has built in (listed in modules.builtin: our own kernel has both =y)
# needs no file; one that is a module is copied, decompressed, and listed in /etc/modules
# of the initramfs for /init to insmod. Neither built in nor a module is an error.
# The guest's /init (guest-init.sh) waits for xvda and eth0, writes a marker to xvda and
# waits for the dom0 to shut it down.
# Prints one line on stdout: how each driver came in ("xen-blkfront module, xen-netfront
# built in").
# Usage: make-guest-initramfs.sh ROOT KVER OUTPUT
# Environment: XA_GUEST_BUSYBOX, the static busybox to use (default ROOT/bin/busybox; stage
# admin's base disk has none and takes the host's, from busybox-static).
set -euo pipefail
root=${1:?usage: make-guest-initramfs.sh ROOT KVER OUTPUT}
kver=${2:?KVER}
output=${3:?OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
moddir=$root/lib/modules/$kver

busybox=${XA_GUEST_BUSYBOX:-$root/bin/busybox}
[ -x "$busybox" ] || { echo "$busybox: missing (busybox-static)" >&2; exit 1; }
[ -d "$moddir" ] || { echo "$moddir: missing (kernel $kver not installed)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,dev,proc,sys,run,etc,lib/modules}
cp "$busybox" "$work/bin/busybox"
: >"$work/etc/modules"
how=()
for mod in xen-blkfront xen-netfront; do
    # modules.builtin lists built-in drivers by their would-be path: kernel/.../xen-blkfront.ko
    if grep -qE "/$mod\.ko$" "$moddir/modules.builtin" 2>/dev/null; then
        how+=("$mod built in")
        continue
    fi
    path=$(find "$moddir" -name "$mod.ko*" | head -n 1)
    [ -n "$path" ] || {
        echo "$moddir: $mod is neither a module nor in modules.builtin" >&2
        exit 1
    }
    # busybox insmod takes plain ELF modules only.
    case $path in
        *.ko) cp "$path" "$work/lib/modules/$mod.ko" ;;
        *.ko.xz) xz -dc "$path" >"$work/lib/modules/$mod.ko" ;;
        *.ko.zst) zstd -qdc "$path" >"$work/lib/modules/$mod.ko" ;;
        *) echo "$path: unknown module compression" >&2; exit 1 ;;
    esac
    echo "$mod" >>"$work/etc/modules"
    how+=("$mod module (${path##*/})")
done
install -m 0755 "$here/guest-init.sh" "$work/init"
# xl shutdown makes the guest kernel run /sbin/poweroff (orderly_poweroff).
install -m 0755 "$here/guest-poweroff.sh" "$work/sbin/poweroff"
mkdir -p "$(dirname "$output")"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -9) >"$output.tmp"
mv "$output.tmp" "$output"
summary=$(printf '%s, ' "${how[@]}")
echo "${summary%, }"
