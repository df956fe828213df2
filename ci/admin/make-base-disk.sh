#!/bin/bash
# Stage admin's base disk: Debian 12 INSTALLED on a partitioned disk the way an installer
# leaves it, without Xen and without our packages, booting through its own GRUB:
#   bios  GPT, p1 BIOS boot partition (1 MiB, for grub-pc's core.img), p2 ext4 root;
#         grub-pc, grub-install --target=i386-pc on the disk. Booted by SeaBIOS.
#   uefi  GPT, p1 EFI system partition (vfat, /boot/efi), p2 ext4 root; what Debian's
#         installer puts on a UEFI machine: shim-signed and grub-efi-amd64-signed, shim at
#         the removable path \EFI\BOOT\BOOTX64.EFI (no NVRAM entry needed) and in
#         \EFI\debian (grub-install's steps by hand, see below). Booted by OVMF (Secure
#         Boot off: Debian 12's Xen is not signed).
# The root is made with mmdebstrap (minbase + systemd, udev, Debian's kernel, initramfs-tools,
# grub, apt, iproute2 (priority important: every installed Debian has it; Xen's vif-bridge
# script and the guest's bridge need `ip`), python3 (on every machine installed with the
# installer's default "standard system utilities" task; Xen's tools depend on it, and
# byte-compiling its library in the VM would be minutes of TCG that prove nothing of ours),
# jq for the checks) from the machine's own apt sources, copied into the root
# partition with mkfs.ext4 -d, then grub-install and update-grub run in a chroot of the
# mounted disk. /etc/default/grub.d/serial-console.cfg is the admin's console drop-in.
#
# The finished disk is cached: $XA_CACHE/admin-base/FIRMWARE-KEY/ holds disk.img (4 GiB,
# sparse), dpkg.status (the root's /var/lib/dpkg/status: stage admin resolves what
# `apt-get install xen-host` needs against it), packages.txt, grub.cfg, build.log, and the
# CI's PV test guest for the disk's kernel (not on the disk: stage admin hands it to the VM
# on the repository disk): kernel-release and guest-initrd.img (ci/boot/
# make-guest-initramfs.sh, the host's busybox-static and the disk's frontend modules). KEY
# hashes the layout version below, the drop-in, the firmware, the package list and the
# machine's apt sources. Concurrent runs are safe: the build
# holds a lock (flock), works in a mktemp directory next to the cache entry and renames it
# into place (atomic), so a reader sees a complete entry or none.
# Usage: make-base-disk.sh bios|uefi    (prints the cache directory on stdout)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"

fw=${1:-}
case $fw in
    bios) grub_pkgs=grub-pc ;;
    uefi) grub_pkgs=grub-efi-amd64,grub-efi-amd64-signed,shim-signed,dosfstools ;;
    *) echo "usage: make-base-disk.sh bios|uefi" >&2; exit 2 ;;
esac
suite=bookworm
packages=systemd,systemd-sysv,udev,kmod,e2fsprogs,iproute2,python3,linux-image-amd64,initramfs-tools,zstd,apt,jq,procps,$grub_pkgs
sources=$(xa_apt_sources)
# Bump when the disk this script makes changes (layout, boot loader, files written): the key
# holds it, not this file's text, so comments and messages do not cost a rebuild.
layout=2
# The admin sets MODULES=dep (initramfs-tools.conf(5)) in /etc/initramfs-tools/conf.d/, as
# on a server whose storage does not change: the images the VM builds (on install, upgrade
# and purge) then hold the root device's modules and what our hook adds, not every storage
# driver. With Debian's default (most) one rebuild under TCG took over 28 minutes on the
# 2-core machine: update-initramfs runs thousands of short processes, each costing tens of
# ms in the emulated system. The disk's first image, made by mmdebstrap before the setting,
# is Debian's default. XA_ADMIN_INITRAMFS_MODULES=most keeps Debian's default.
initramfs_modules=${XA_ADMIN_INITRAMFS_MODULES:-dep}
key=$({ cat "$here/serial-console.cfg"; echo "layout $layout $fw $suite $packages${initramfs_modules/#most/}"; echo "$sources"; } |
    sha256sum | cut -c1-16)
base=$XA_CACHE/admin-base
entry=$base/$fw-$key
mkdir -p "$base"
if [ -f "$entry/disk.img" ]; then echo "$entry"; exit 0; fi

exec 9>"$base/.lock-$fw-$key"
flock 9
# Built by a concurrent run while this one waited.
if [ -f "$entry/disk.img" ]; then echo "$entry"; exit 0; fi

tmp=$(mktemp -d "$base/.build-$fw-$key.XXXXXX")
log=$tmp/build.log
mnt=$tmp/mnt
loop=
cleanup() {
    local m
    for m in "$mnt/sys" "$mnt/proc" "$mnt/dev" "$mnt/boot/efi" "$mnt"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m"
    done
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
    [ ! -d "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
start=$(xa_now)
xa_say "admin: building the $fw base disk ($entry)"

# 1. The root, as a directory. Kept (under the lock) until the disk is done, so that a
# failure later on does not cost the next attempt the mmdebstrap run.
root=$base/.rootfs-$fw-$key
deb_cache=$XA_CACHE/debs/admin-$suite
mkdir -p "$deb_cache"
if [ ! -f "$root.done" ]; then
    rm -rf "$root"
    # shellcheck disable=SC2016 # $1 is the hook's own argument (the chroot)
    mkdir_hook='mkdir -p "$1/var/cache/apt/archives"'
    # The .deb cache through private directories that ci/lib.sh merges under its lock (the
    # other firmware's disk may be built at the same time).
    xa_debs_begin "$deb_cache"
    rc=0
    printf '%s\n' "$sources" | nice -n 10 mmdebstrap --mode=root --variant=minbase \
        --format=directory --include="$packages" \
        --setup-hook="$mkdir_hook" \
        --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
        --skip=essential/unlink \
        --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
        "$suite" "$root" - >>"$log" 2>&1 || rc=$?
    xa_debs_end
    if [ "$rc" != 0 ]; then
        tail -n 30 "$log" >&2
        xa_die "admin: mmdebstrap of the $fw base root failed"
    fi
    touch "$root.done"
fi

# 2. What the installer would have written: fstab by UUID, hostname, the console drop-in,
# debconf's answer for where grub lives (so later grub upgrades reinstall it).
root_uuid=$(cat /proc/sys/kernel/random/uuid)
esp_id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)
esp_uuid=${esp_id:0:4}-${esp_id:4:4}
{
    echo "UUID=$root_uuid / ext4 errors=remount-ro 0 1"
    [ "$fw" != uefi ] || echo "UUID=$esp_uuid /boot/efi vfat umask=0077 0 1"
} >"$root/etc/fstab"
echo xa-admin >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 xa-admin\n' >"$root/etc/hosts"
install -D -m 0644 "$here/serial-console.cfg" "$root/etc/default/grub.d/serial-console.cfg"
if [ "$initramfs_modules" != most ]; then
    printf 'MODULES=%s\n' "$initramfs_modules" >"$root/etc/initramfs-tools/conf.d/modules.conf"
fi
if [ "$fw" = bios ]; then
    echo "grub-pc grub-pc/install_devices multiselect /dev/vda" >"$tmp/debconf"
else
    mkdir -p "$root/boot/efi"
    echo "grub-efi-amd64 grub2/force_efi_extra_removable boolean true" >"$tmp/debconf"
fi
chroot "$root" debconf-set-selections <"$tmp/debconf"

# 3. The disk: GPT, then the filesystems on the loop device's partitions.
disk=$tmp/disk.img
truncate -s 4G "$disk"
if [ "$fw" = bios ]; then
    sfdisk -q "$disk" >>"$log" 2>&1 <<'EOF'
label: gpt
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios-boot
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
else
    sfdisk -q "$disk" >>"$log" 2>&1 <<'EOF'
label: gpt
size=128MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
fi
loop=$("$here/loop-attach.sh" "$disk" 2) || xa_die "admin: no loop device with partitions for $disk"
mkfs.ext4 -q -F -U "$root_uuid" -L root -d "$root" "${loop}p2" >>"$log" 2>&1
[ "$fw" != uefi ] || mkfs.vfat -F 32 -n ESP -i "$esp_id" "${loop}p1" >>"$log" 2>&1

# 4. The boot loader, from inside the installed system. The host has no udev, so the
# chroot gets its own /dev (a tmpfs): the usual nodes, the loop disk and its partitions
# and the /dev/disk/by-uuid links update-grub looks for (without them grub.cfg would say
# root=/dev/loopNp2), instead of writing links into the host's /dev.
mkdir -p "$mnt"
mount "${loop}p2" "$mnt"
mount -t tmpfs -o mode=0755 xa-admin-dev "$mnt/dev"
cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$loop" "$loop"p* "$mnt/dev/"
mkdir -p "$mnt/dev/disk/by-uuid"
ln -s "../../$(basename "$loop")p2" "$mnt/dev/disk/by-uuid/$root_uuid"
[ "$fw" != uefi ] || ln -s "../../$(basename "$loop")p1" "$mnt/dev/disk/by-uuid/$esp_uuid"
mount --bind /proc "$mnt/proc"
mount --bind /sys "$mnt/sys"
if [ "$fw" = bios ]; then
    chroot "$mnt" grub-install --target=i386-pc "$loop" >>"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; xa_die "admin: grub-install (i386-pc) failed"; }
else
    # grub-install --target=x86_64-efi wants the ESP mounted as FAT, and the CI machines'
    # kernel has no vfat. Its steps for a signed install (--uefi-secure-boot, Debian's
    # default with shim-signed, --force-extra-removable), by hand with mtools: the modules
    # into /boot/grub/x86_64-efi (the signed image loads multiboot2 from there; gzio, which
    # Xen's compressed image needs, is built into it), shim, grub and MokManager into
    # \EFI\debian with the grub.cfg that finds the root by UUID, and shim and grub again at
    # the removable path \EFI\BOOT (no fallback fbx64.efi: it would write NVRAM entries and
    # reset the machine). Inside the booted system the ESP is mounted at /boot/efi
    # (fstab), so later grub-install runs by grub's maintainer scripts work as usual.
    # The unsigned grub-efi-amd64 alone is not what the installer sets up, and Debian 12's
    # Xen entries do not boot with it ("no multiboot header found": 20_linux_xen does not
    # load gzio; README, troubleshooting).
    # The ESP's tree is put together here, then copied in with one mcopy.
    shim=$mnt/usr/lib/shim grub_signed=$mnt/usr/lib/grub/x86_64-efi-signed esp=$tmp/esp/EFI
    mkdir -p "$esp/debian" "$esp/BOOT"
    # shellcheck disable=SC2016 # $root and $prefix are GRUB's variables
    printf "search.fs_uuid %s root\nset prefix=(\$root)'/boot/grub'\nconfigfile \$prefix/grub.cfg\n" \
        "$root_uuid" >"$esp/debian/grub.cfg"
    printf 'shimx64.efi,debian,,This is the boot entry for debian\n' | iconv -t UTF-16 >"$esp/debian/BOOTX64.CSV"
    for d in debian BOOT; do
        cp "$shim/mmx64.efi.signed" "$esp/$d/mmx64.efi"
        cp "$grub_signed/grubx64.efi.signed" "$esp/$d/grubx64.efi"
    done
    cp "$shim/shimx64.efi.signed" "$esp/debian/shimx64.efi"
    cp "$shim/shimx64.efi.signed" "$esp/BOOT/BOOTX64.EFI"
    if ! chroot "$mnt" sh -c 'mkdir -p /boot/grub && cp -r /usr/lib/grub/x86_64-efi /boot/grub/' >>"$log" 2>&1 ||
        ! mcopy -s -i "${loop}p1" "$esp" ::/ >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        xa_die "admin: the signed x86_64-efi boot loader (shim, grub; mtools) failed"
    fi
    rm -rf "$tmp/esp"
    mdir -i "${loop}p1" ::/EFI/BOOT/grubx64.efi >/dev/null 2>&1 || xa_die "admin: no \\EFI\\BOOT\\grubx64.efi on the ESP"
fi
chroot "$mnt" update-grub >>"$log" 2>&1 || { tail -n 20 "$log" >&2; xa_die "admin: update-grub failed"; }
grep -q "root=UUID=$root_uuid" "$mnt/boot/grub/grub.cfg" ||
    xa_die "admin: grub.cfg does not boot root=UUID=$root_uuid (see $mnt/boot/grub/grub.cfg)"
grep -q 'console=ttyS0' "$mnt/boot/grub/grub.cfg" || xa_die "admin: grub.cfg lacks the serial console"
# The PV test guest of boot 2 boots this kernel (the dom0's): its initramfs holds the
# frontends of exactly this kernel.
kver=$(dpkg-query --admindir="$mnt/var/lib/dpkg" -W -f='${Depends}' linux-image-amd64 |
    sed -n 's/^linux-image-\([^ ,|]*\).*/\1/p')
if [ -z "$kver" ] || [ ! -f "$mnt/boot/vmlinuz-$kver" ]; then
    xa_die "admin: no kernel release from linux-image-amd64 in the $fw root"
fi
echo "$kver" >"$tmp/kernel-release"
XA_GUEST_BUSYBOX=/bin/busybox "$here/../boot/make-guest-initramfs.sh" "$mnt" "$kver" "$tmp/guest-initrd.img" >>"$log" 2>&1 ||
    { tail -n 5 "$log" >&2; xa_die "admin: the PV test guest's initramfs for $kver failed"; }
cp "$mnt/var/lib/dpkg/status" "$tmp/dpkg.status"
dpkg-query --admindir="$mnt/var/lib/dpkg" -W -f='${Package} ${Version}\n' >"$tmp/packages.txt"
cp "$mnt/boot/grub/grub.cfg" "$tmp/grub.cfg"
echo "root_uuid=$root_uuid esp_uuid=$esp_uuid built in $(($(xa_now) - start)) s" >>"$log"
for m in "$mnt/sys" "$mnt/proc" "$mnt/dev" "$mnt"; do
    if mountpoint -q "$m"; then umount "$m"; fi
done
losetup -d "$loop"
loop=
rmdir "$mnt"
mv "$tmp" "$entry"
tmp=
rm -rf "$root" "$root.done"
xa_say "admin: $fw base disk ready in $(($(xa_now) - start)) s"
echo "$entry"
