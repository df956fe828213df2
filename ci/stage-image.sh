#!/bin/bash
# Stage image: Debian root filesystems made with mmdebstrap, with Xen, Debian's kernel and
# our packages installed by apt from our signed apt repository (out/repo/apt), plus the
# in-image check unit (ci/boot/). One image per target:
#   bookworm  Debian 12 (Xen 4.17, kernel 6.1) plus OUR kernel, linux-image-xen-autoload
#             (both kernels in the same image file). $XA_OUT/image, checks "image"
#   trixie    Debian 13 (Xen 4.20, kernel 6.12), our packages as built on bookworm.
#             $XA_OUT/image-trixie, checks "image-trixie"
#   bookworm-dracut  Debian 12 with dracut instead of initramfs-tools and our dracut module
#             (xen-autoload-dracut), as an admin who prefers dracut has it: the initramfs
#             made by dracut when apt installs the packages. $XA_OUT/image-dracut, checks
#             "image-dracut"
#   arm64     Debian 12 for arm64 (Xen 4.17, kernel 6.1; xen-system-arm64,
#             linux-image-arm64), our arm64 packages from the repository stage arm64
#             publishes ($XA_OUT/arm64/repo); made under qemu-user (binfmt_misc), by stage
#             arm64, not in the default list. $XA_OUT/image-arm64, checks "image-arm64"
# Each image directory holds:
#   root.img            ext4 image of the root (booted by stage boot under Xen and natively)
#   xen vmlinuz initrd.img   hypervisor (gunzipped multiboot ELF; on arm64 Xen's Image),
#                       Debian's kernel, initramfs
#   xa-kernel/vmlinuz xa-kernel/initrd.img   our kernel and its initramfs (bookworm)
#   boot.env            KVER=..., XEN=... (and XA_KVER=... for our kernel; HVM=1 with
#                       XA_IMAGE_HVM=1) for stage boot
#   deny/               bookworm: the same system with drop-ins denying xen-netback and
#                       hiding every Ethernet controller (pciback-hide class=0x0200), and
#                       its initramfs remade (update-initramfs -u): root.img, initrd.img
#   deny-stale/         the same with the drop-in and the initramfs of before (update-initramfs
#                       not run): root.img, initrd.img
#   stock/              bookworm, only with XA_IMAGE_STOCK=1: the same system without our
#                       packages (dpkg --purge xen-host xen-autoload, its initramfs remade):
#                       Debian's own Xen host, which bench/boot-speed.sh boots beside ours
#   mmdebstrap.log      the full mmdebstrap output
#
# Usage: ci/stage-image.sh [bookworm|trixie|bookworm-dracut|arm64...]   (default: the first three, side by side;
# each target runs even when another failed, the stage fails if any did)
# Environment: XA_APT_REPO=DIR takes our repository from DIR instead of out/repo/apt.
# XA_IMAGE_STOCK=1 also makes bookworm's stock variant (stock/ above).
# XA_IMAGE_HVM=1 also installs qemu-system-xen in bookworm's image (and its variants): the
# device model of HVM guests (with seabios, ipxe-qemu, qemu-system-data; Xen's hvmloader
# comes with xen-utils), for stage boot's XA_BOOT_HVM=1; not by default: it changes every
# boot of the image, and its checks then get 1380 s instead of 1080 s (the drop-in below).
# XA_IMAGE_ALLOW_STOCK=1 builds a stock image (no xen-autoload) when our
# repository is missing, for developing the boot stage; the stage still FAILS then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

if [ $# -ne 1 ]; then
    [ $# -gt 0 ] || set -- bookworm trixie bookworm-dracut
    # The targets side by side: each has its own directory and .deb cache (the shared
    # caches go through ci/lib.sh's locks), and most of their time is dpkg and I/O, so on 2
    # cores three at once take about as long as the longest (dracut's image) alone.
    pids=()
    for target in "$@"; do
        "$here/stage-image.sh" "$target" &
        pids+=($!)
    done
    rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    exit $rc
fi

target=$1
our_kernel=linux-image-xen-autoload
initramfs="initramfs-tools" arch=amd64
repo=${XA_APT_REPO:-$XA_OUT/repo/apt}   # stage packages publishes it there
case $target in
    bookworm) suite=bookworm stage=image img=$XA_OUT/image xen_utils=xen-utils-4.17 with_our_kernel=1 ;;
    trixie) suite=trixie stage=image-trixie img=$XA_OUT/image-trixie xen_utils=xen-utils-4.20 with_our_kernel=0 ;;
    bookworm-dracut)
        suite=bookworm stage=image-dracut img=$XA_OUT/image-dracut xen_utils=xen-utils-4.17
        with_our_kernel=0 initramfs=dracut
        ;;
    arm64)
        suite=bookworm stage=image-arm64 img=$XA_OUT/image-arm64 xen_utils=xen-utils-4.17
        with_our_kernel=0 arch=arm64 repo=${XA_APT_REPO:-$XA_OUT/arm64/repo}
        ;;
    *) echo "stage-image: unknown target '$target' (bookworm, trixie, bookworm-dracut, arm64)" >&2; exit 2 ;;
esac
key_name=xen-autoload-archive.gpg
# One cache per target: each keeps only what its image uses (step 2).
deb_cache=$XA_CACHE/debs/$target
status=0

# What a Xen host needs from Debian, plus what the checks and measurements use. Our own
# packages (xen-host pulls xen-system-ARCH, linux-image-ARCH and xen-autoload) come on top.
base_packages=(
    systemd systemd-sysv udev kmod "$initramfs" zstd iproute2 procps
    "linux-image-$arch" "xen-system-$arch" "$xen_utils" xenstore-utils
    bridge-utils busybox-static strace virt-what jq
)
[ "$target" != bookworm ] || [ "${XA_IMAGE_HVM:-0}" != 1 ] || base_packages+=(qemu-system-xen)
our_packages=(xen-host xen-autoload)
[ "$initramfs" != dracut ] || our_packages+=(xen-autoload-dracut)

# The machine's own apt sources (ci/lib.sh), with the machine's release name replaced by
# SUITE in the suite fields only (bookworm-updates -> trixie-updates, bookworm-security ->
# trixie-security): same archive hosts, same Signed-By keyring, so apt inside mmdebstrap
# verifies SUITE's Release files with the machine's debian-archive-keyring.
host_suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
suite_sources() {
    xa_apt_sources | awk -v from="$host_suite" -v to="$suite" '
        function swap(i) {
            if (from != "" && ($i == from || index($i, from "-") == 1))
                $i = to substr($i, length(from) + 1)
        }
        # deb822: "Suites: bookworm bookworm-updates"
        /^Suites:/ { for (i = 2; i <= NF; i++) swap(i) }
        # one-line: "deb [options] URI SUITE COMPONENT...": the field after the URI
        /^deb / { for (i = 2; i < NF; i++) if ($i ~ /:/ && $i !~ /^\[/ && $i !~ /=/) { swap(i + 1); break } }
        { print }'
}

start=$(xa_now)
rm -f "$XA_OUT/report/$stage.checks" "$XA_OUT/report/$stage.metrics"
mkdir -p "$img"
rm -rf "$img/rootfs" "$img/apt-repo" "$img"/root.img "$img"/root.img.tmp "$img/apt-policy.txt" \
    "$img/xa-kernel" "$img/boot.env" "$img/deny" "$img/deny-stale" "$img/stock"

sources=$(suite_sources)
if ! grep -qE "^Suites:.*[[:space:]]${suite}([[:space:]]|$)|^deb .*[[:space:]]${suite}[[:space:]]" <<<"$sources"; then
    xa_check "$stage" "apt sources for $suite" fail \
        "no suite '$suite' after replacing '$host_suite' in the machine's sources (ci/lib.sh xa_apt_sources)"
    exit 1
fi
printf '%s\n' "$sources" >"$img/apt-sources.txt"

repo_version() {
    local packages_file=$img/apt-repo/Packages
    [ -f "$packages_file" ] || packages_file=<(zcat "$img/apt-repo/Packages.gz")
    awk -v p="$1" '$1=="Package:"{cur=$2} $1=="Version:" && cur==p {print $2; exit}' \
        "$packages_file"
}

# 1. Our repository must exist: never build a stock image and call it ours.
packages=("${base_packages[@]}")
mirror_extra=()
if [ -f "$repo/$key_name" ] && { [ -f "$repo/Packages" ] || [ -f "$repo/Packages.gz" ]; } &&
    { [ -f "$repo/InRelease" ] || [ -f "$repo/Release.gpg" ]; }; then
    # Snapshot it: the packages stage of a parallel run must not change it under apt.
    cp -a "$repo" "$img/apt-repo"
    mirror_extra=("deb [signed-by=$img/apt-repo/$key_name] file:$img/apt-repo ./")
    xa_check "$stage" "signed apt repository present" pass "$repo"
    # Our kernel is published into the same repository by stage kernel. Missing,
    # it is a failure of this stage, not a silent stock-only image.
    if [ "$with_our_kernel" = 1 ]; then
        kernel_version=$(repo_version "$our_kernel")
        if [ -n "$kernel_version" ]; then
            our_packages+=("$our_kernel")
            xa_check "$stage" "$our_kernel in our repository" pass "$kernel_version"
        else
            xa_check "$stage" "$our_kernel in our repository" fail \
                "$repo/Packages: no package '$our_kernel' (stage kernel publishes it)"
            status=1
        fi
    fi
    packages+=("${our_packages[@]}")
    # for customize-image.sh
    export XA_IMAGE_REPO=$img/apt-repo XA_IMAGE_POLICY=$img/apt-policy.txt
    export XA_IMAGE_OUR_PACKAGES="${our_packages[*]}"
else
    xa_check "$stage" "signed apt repository present" fail \
        "$repo: needs $key_name, Packages and InRelease/Release.gpg (stage packages)"
    [ "${XA_IMAGE_ALLOW_STOCK:-0}" = 1 ] || exit 1
    xa_say "$stage: XA_IMAGE_ALLOW_STOCK=1: building a STOCK image (development only)"
    status=1
fi

# 2. The root filesystem. .debs downloaded from the archive are kept in $deb_cache between
# runs (sync-in before download, sync-out before cleanup, through private directories that
# ci/lib.sh's xa_debs_begin/xa_debs_end merge into the shared cache under its lock: a
# concurrent run never sees a half-copied .deb); essential/unlink is skipped so
# the essential set stays in the cache too. Our repository is a file: mirror, bind-mounted
# into the chroot at the same path by mmdebstrap's file-mirror-automount hook dir, so apt
# installs our packages from it like from any archive.
xa_say "$stage: mmdebstrap $suite (${#packages[@]} packages requested, cache $deb_cache)"
include=$(IFS=,; echo "${packages[*]}")
# shellcheck disable=SC2016 # $1 (the chroot) is for the hook's own shell
mkdir_hook='mkdir -p "$1/var/cache/apt/archives"'
# shellcheck disable=SC2016
customize_hook='"$XA_TOP/ci/boot/customize-image.sh" "$1"'
# arm64: the initramfs holds the modules its boot needs (MODULES=list: the virtio disk and
# ext4; our hook adds the policy's), set before the kernel is installed. Debian's default,
# MODULES=most, runs modprobe and realpath for each of thousands of modules, and every one
# of those processes is emulated here: mkinitramfs took over 8 minutes under qemu-user.
extra_hooks=()
if [ "$arch" = arm64 ]; then
    # shellcheck disable=SC2016 # $1 (the chroot) is for the hook's own shell
    extra_hooks=(--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d" &&
        echo MODULES=list >"$1/etc/initramfs-tools/conf.d/xa-ci-modules.conf" &&
        printf "%s\n" virtio_pci virtio_mmio virtio_blk ext4 >"$1/usr/share/initramfs-tools/modules.d/xa-ci"')
fi
xa_debs_begin "$deb_cache"
rc=0
printf '%s\n' "$sources" | nice -n 10 mmdebstrap --mode=root --variant=minbase --format=directory \
    --architectures="$arch" --include="$include" \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --setup-hook="$mkdir_hook" \
    --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
    --skip=essential/unlink "${extra_hooks[@]}" \
    --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
    --customize-hook="$customize_hook" \
    "$suite" "$img/rootfs" - "${mirror_extra[@]}" >"$img/mmdebstrap.log" 2>&1 || rc=$?
xa_debs_end
if [ "$rc" -ne 0 ]; then
    tail -n 30 "$img/mmdebstrap.log" >&2
    xa_check "$stage" "mmdebstrap root filesystem" fail "see $img/mmdebstrap.log"
    exit 1
fi
xa_check "$stage" "mmdebstrap root filesystem" pass "$suite, $(du -sh "$img/rootfs" | cut -f1)"
root=$img/rootfs
# Keep the .deb cache to what this image uses: superseded versions go. Our own packages
# come from our repository, not the archive: they never enter the cache.
# Under the cache's lock: a concurrent run's snapshot (xa_debs_begin) is taken whole.
dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package}_${Version}_${Architecture}.deb\n' |
    sed 's/:/%3a/' | sort >"$img/debs-in-use.txt"
xa_lock debs
find "$deb_cache" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort |
    comm -23 - "$img/debs-in-use.txt" | sed "s|^|$deb_cache/|" | xargs -r rm -f
xa_unlock debs
xa_metric "$stage" mmdebstrap-seconds "$(($(xa_now) - start))" s

# 3. Our packages: installed, at the version the repository publishes, by apt.
installed_version() {
    dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Status} ${Version}' "$1" \
        2>/dev/null | sed -n 's/^installed //p' || true
}
# apt-cache policy, taken inside the chroot by the customize hook: the installed version
# (***) must be the one our file: repository offers.
installed_from_repo() {
    awk -v pkg="$1:" -v repo="file:$img/apt-repo" '
        /^[^ ]/ { cur = $1 }
        cur == pkg && $1 == "***" { mark = 1; next }
        cur == pkg && mark && /^ +[0-9]+ / { if (index($0, repo)) found = 1; next }
        cur == pkg && mark { mark = 0 }
        END { exit !found }' "$img/apt-policy.txt"
}
for pkg in "${our_packages[@]}"; do
    have=$(installed_version "$pkg")
    if [ ${#mirror_extra[@]} -eq 0 ]; then
        xa_check "$stage" "$pkg installed by apt from our repository" fail "repository missing"
        continue
    fi
    want=$(repo_version "$pkg")
    if [ -n "$have" ] && [ "$have" = "$want" ] && installed_from_repo "$pkg"; then
        xa_check "$stage" "$pkg installed by apt from our repository" pass "$have"
    else
        xa_check "$stage" "$pkg installed by apt from our repository" fail \
            "installed '${have:-none}', repository '${want:-none}', see $img/apt-policy.txt"
        status=1
    fi
done
for f in usr/sbin/xen-autoload lib/systemd/system/xen-autoload.service; do
    if [ ${#mirror_extra[@]} -gt 0 ] && [ -e "$root/$f" ]; then
        xa_check "$stage" "image has /$f" pass
    else
        xa_check "$stage" "image has /$f" fail
        status=1
    fi
done

# The device model and the firmware loader of HVM guests (XA_IMAGE_HVM=1): the package's
# QEMU and Xen's hvmloader.
if [ "$target" = bookworm ] && [ "${XA_IMAGE_HVM:-0}" = 1 ]; then
    dm=$(dpkg-query --admindir="$root/var/lib/dpkg" -L qemu-system-xen 2>/dev/null |
        grep -E '/(xen-)?qemu-system-i386$' | head -n 1)
    hvmloader=$(find "$root"/usr/lib/xen-*/boot -name hvmloader -type f 2>/dev/null | head -n 1)
    if [ -n "$dm" ] && [ -x "$root$dm" ] && [ -n "$hvmloader" ]; then
        xa_check "$stage" "HVM guests: qemu-system-xen and hvmloader in the image" pass \
            "$dm ($(installed_version qemu-system-xen)), ${hvmloader#"$root"}"
    else
        xa_check "$stage" "HVM guests: qemu-system-xen and hvmloader in the image" fail \
            "device model '${dm:-none}', hvmloader '${hvmloader:-none}' (XA_IMAGE_HVM=1)"
        status=1
    fi
fi

# 4. Boot files for QEMU: the hypervisor (QEMU's multiboot loader wants the ELF, not .gz),
# Debian's kernel and its own initramfs generated in the chroot. Debian's kernel is the one
# linux-image-ARCH depends on (not "the newest in /lib/modules": ours may sort higher). On
# arm64 Xen is an Image QEMU loads as it is (/boot/xen-4.17-arm64, not its .efi or .config).
kver=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Depends}' "linux-image-$arch" 2>/dev/null |
    sed -n 's/^linux-image-\([^ ,|]*\).*/\1/p')
xen_file=$(find "$root/boot" -maxdepth 1 \( -name 'xen-*-amd64.gz' -o -name 'xen-*-arm64' \) | sort -V | tail -n 1)
if [ -z "$kver" ] || [ -z "$xen_file" ] || [ ! -f "$root/boot/vmlinuz-$kver" ] ||
    [ ! -f "$root/boot/initrd.img-$kver" ]; then
    xa_check "$stage" "kernel, initramfs and hypervisor in /boot" fail \
        "kver '$kver' (Depends of linux-image-$arch), xen '$xen_file'"
    exit 1
fi
case $xen_file in
    *.gz) zcat "$xen_file" >"$img/xen" ;;
    *) cp "$xen_file" "$img/xen" ;;
esac
cp "$root/boot/vmlinuz-$kver" "$img/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$img/initrd.img"
xen_version=$(basename "$xen_file" .gz)
printf 'SUITE=%s\nARCH=%s\nKVER=%s\nXEN=%s\n' "$suite" "$arch" "$kver" "$xen_version" >"$img/boot.env"
# HVM=1: the image has the HVM guest's device model (XA_IMAGE_HVM=1): stage boot's
# XA_BOOT_HVM=1 boots nothing without it.
[ "$target" != bookworm ] || [ "${XA_IMAGE_HVM:-0}" != 1 ] || echo HVM=1 >>"$img/boot.env"
xa_check "$stage" "kernel, initramfs and hypervisor in /boot" pass "$kver, $xen_version"
kernels=("$kver")

# The dracut target: the initramfs that apt's run of dracut made (the update-initramfs
# trigger xen-autoload-dracut activates, as on an admin's host) holds our early hook, the
# program and the dom0 backends.
if [ "$initramfs" = dracut ]; then
    chroot "$root" lsinitrd "/boot/initrd.img-$kver" >"$img/lsinitrd.txt" 2>&1 || true
    missing=()
    for f in 'hooks/pre-udev/00-xen-autoload-early\.sh$' 'usr/sbin/xen-autoload$' \
        '/xen-netback\.ko' '/xen-blkback\.ko' '/xen-pciback\.ko'; do
        grep -qE "$f" "$img/lsinitrd.txt" || missing+=("$f")
    done
    # lsinitrd's header lists the dracut modules the image was made with.
    sed -n '/^dracut modules:$/,/^=*$/p' "$img/lsinitrd.txt" | grep -qx xen-autoload ||
        missing+=("xen-autoload among lsinitrd's 'dracut modules:'")
    if [ ${#missing[@]} -gt 0 ]; then
        xa_check "$stage" "initramfs made by dracut with xen-autoload's hook and the backends" fail \
            "missing: ${missing[*]:-none}; see $img/lsinitrd.txt"
        status=1
    else
        xa_check "$stage" "initramfs made by dracut with xen-autoload's hook and the backends" pass \
            "$(grep -cE '\.ko(\.[a-z]+)?$' "$img/lsinitrd.txt") modules, $img/lsinitrd.txt"
    fi
fi

# Our kernel: its release from the package's own /boot/vmlinuz-*, its initramfs made by
# Debian's kernel hooks (/etc/kernel/postinst.d/initramfs-tools) in the chroot.
if [[ " ${our_packages[*]} " == *" $our_kernel "* ]]; then
    xa_kver=$(dpkg-query --admindir="$root/var/lib/dpkg" -L "$our_kernel" 2>/dev/null |
        sed -n 's|^/boot/vmlinuz-||p' | head -n 1)
    if [ -n "$xa_kver" ] && [ -f "$root/boot/vmlinuz-$xa_kver" ] &&
        [ -f "$root/boot/initrd.img-$xa_kver" ] && [ -d "$root/lib/modules/$xa_kver" ]; then
        mkdir -p "$img/xa-kernel"
        cp "$root/boot/vmlinuz-$xa_kver" "$img/xa-kernel/vmlinuz"
        cp "$root/boot/initrd.img-$xa_kver" "$img/xa-kernel/initrd.img"
        printf 'XA_KVER=%s\n' "$xa_kver" >>"$img/boot.env"
        kernels+=("$xa_kver")
        xa_check "$stage" "our kernel and its initramfs in /boot" pass "$xa_kver"
    else
        xa_check "$stage" "our kernel and its initramfs in /boot" fail \
            "$our_kernel: release '${xa_kver:-none}': needs /boot/vmlinuz-, /boot/initrd.img- and /lib/modules/ of it"
        status=1
    fi
fi

# 5. The PV guest's initramfs, one per kernel (the guest boots the dom0's kernel):
# busybox-static + xen-blkfront/xen-netfront of that kernel, as modules or built in.
for k in "${kernels[@]}"; do
    if frontends=$("$here/boot/make-guest-initramfs.sh" "$root" "$k" \
        "$root/var/lib/xa-check/guest-initrd-$k.img" 2>>"$img/mmdebstrap.log"); then
        xa_check "$stage" "guest initramfs for $k" pass "$frontends"
    else
        xa_check "$stage" "guest initramfs for $k" fail "see $img/mmdebstrap.log"
        exit 1
    fi
done

# The boots of this image and its deny variants run the long phases (the guest storm, the
# PVH guest, the faults, the driver domain): their checks get 1080 s instead of 480 s
# (stage boot's deadline for them is 1200 s). With XA_IMAGE_HVM=1, 1380 s: the HVM
# guest's wait is longer than the PVH guest's (xa-domains.sh; stage boot: 1500 s).
if [ "$target" = bookworm ]; then
    long=1080
    [ "${XA_IMAGE_HVM:-0}" != 1 ] || long=1380
    mkdir -p "$root/etc/systemd/system/xa-check.service.d"
    printf '%s\n' "[Service]" "TimeoutStartSec=$long" \
        >"$root/etc/systemd/system/xa-check.service.d/long-phases.conf"
fi

# 6. The disk image. 3 GiB sparse; the boots use it read-only (QEMU snapshot=on).
# ext4_image DEST: the root as an ext4 image at DEST, written whole (a rename).
ext4_image() {
    truncate -s 3G "$1.tmp" && mkfs.ext4 -q -F -L root -d "$root" "$1.tmp" && mv "$1.tmp" "$1"
}
ext4_image "$img/root.img"
xa_check "$stage" "ext4 image" pass "$(du -h "$img/root.img" | cut -f1) used of 3G"
# variant DIR: a variant of the image in DIR: the root as it is now (root.img), the
# initramfs of Debian's kernel as it is now (initrd.img), the main image's xen, vmlinuz and
# boot.env.
variant() {
    cp "$root/boot/initrd.img-$kver" "$1/initrd.img" && ext4_image "$1/root.img" || return 1
    for f in xen vmlinuz boot.env; do ln -sfn "../$f" "$1/$f"; done
}
installed_packages=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Status}\n' | grep -c '^installed$')

# in_root ROOT COMMAND...: COMMAND chrooted in ROOT with /proc, /sys and /dev, in a private
# mount namespace (they are unmounted with it).
in_root() {
    # shellcheck disable=SC2016 # $1 is the inner shell's
    unshare --mount --propagation private sh -c '
        mount -t proc proc "$1/proc" && mount --rbind /sys "$1/sys" &&
        mount --rbind /dev "$1/dev" && r=$1 && shift && chroot "$r" "$@"' sh "$@"
}

# 7. The deny variant (bookworm): the same system after the admin's own steps for "the
# network lives in a driver domain" (xen-autoload.conf(5)): drop-ins in /etc/xen-autoload/
# denying xen-netback and giving every Ethernet controller to pciback (as Qubes' sys-net
# has them), then update-initramfs -u. $img/deny/ holds its root.img and initrd.img; xen,
# vmlinuz and boot.env are the main image's. Stage boot boots it as "deny".
if [ "$target" = bookworm ]; then
    deny_conf=etc/xen-autoload/90-deny-netback.conf
    printf '%s\n' "# The network backend runs in a driver domain: never load it here." \
        "deny xen-netback" >"$root/$deny_conf"
    printf '%s\n' "# The network controllers are passed through to the driver domain." \
        "pciback-hide class=0x0200" >"$root/etc/xen-autoload/80-hide-nics.conf"
    mkdir -p "$img/deny" "$img/deny-stale"
    # First the admin who forgot update-initramfs -u: the drop-in, the initramfs of before
    # (in /boot as on the disk, and the one QEMU boots).
    ext4_image "$img/deny-stale/root.img"
    for f in xen vmlinuz boot.env initrd.img; do ln -sfn "../$f" "$img/deny-stale/$f"; done
    # update-initramfs in the image's chroot. The main image's initrd was copied above
    # (step 4).
    if in_root "$root" update-initramfs -u -k "$kver" >"$img/deny/update-initramfs.log" 2>&1 &&
        variant "$img/deny"; then
        xa_check "$stage" "deny variant: /$deny_conf, update-initramfs -u, ext4 image" pass "$img/deny"
    else
        tail -n 20 "$img/deny/update-initramfs.log" >&2
        xa_check "$stage" "deny variant: /$deny_conf, update-initramfs -u, ext4 image" fail \
            "see $img/deny/update-initramfs.log"
        status=1
    fi
fi

# 8. The stock variant (bookworm, XA_IMAGE_STOCK=1): the same system as Debian alone makes
# it, for the side-by-side speed boots: the admin's drop-ins gone, our packages purged as
# an admin would (dpkg runs our postrm and the initramfs trigger), the initramfs of Debian's
# kernel remade without our hook. $img/stock/ holds root.img and initrd.img.
if [ "$target" = bookworm ] && [ "${XA_IMAGE_STOCK:-0}" = 1 ]; then
    rm -f "$root/$deny_conf" "$root/etc/xen-autoload/80-hide-nics.conf"
    mkdir -p "$img/stock"
    if in_root "$root" dpkg --purge xen-host xen-autoload >"$img/stock/purge.log" 2>&1 &&
        in_root "$root" update-initramfs -u -k "$kver" >>"$img/stock/purge.log" 2>&1 &&
        [ ! -e "$root/usr/sbin/xen-autoload" ] && variant "$img/stock"; then
        xa_check "$stage" "stock variant: our packages purged, initramfs remade, ext4 image" pass "$img/stock"
    else
        tail -n 20 "$img/stock/purge.log" >&2
        xa_check "$stage" "stock variant: our packages purged, initramfs remade, ext4 image" fail \
            "see $img/stock/purge.log"
        status=1
    fi
fi
xa_metric "$stage" image-seconds "$(($(xa_now) - start))" s
xa_metric "$stage" rootfs-packages "$installed_packages"
exit $status
