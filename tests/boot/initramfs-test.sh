#!/bin/bash
# Real initramfs images with xen-autoload inside, built by the real generators on a real
# Debian kernel: mkinitramfs with MODULES=most and MODULES=dep, dracut with --no-hostonly
# and --hostonly. The root is a Debian 12 root made with mmdebstrap (make-root.sh, cached),
# copied into a fresh ext4 image on a loop device so every run starts clean; the project is
# installed into it with `cmake --install` (DESTDIR), as the packages do. Each image is
# listed (lsinitramfs, lsinitrd) and must hold: the binary, every library it links, the
# policy, the udev rules, the early script, the Xen modules the policy names for every role
# and the four frontends; a module denied by policy must stay out. The initramfs-tools
# image is also unpacked to check that the early script runs before udev's coldplug.
# Last, the deny list the daemon writes is shown to stop udev's own kmod builtin.
# Usage: initramfs-test.sh BUILD_DIR SOURCE_DIR [METRICS_FILE]     (root)
set -euo pipefail
build=$1 src=$2 metrics=${3:-/dev/null}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../ci/lib.sh source-path=SCRIPTDIR
. "$src/ci/lib.sh"

if [ "${XA_IN_NS:-}" != 1 ]; then
    # A private mount namespace: the root image and the chroot's /proc, /sys, /dev vanish with it.
    exec unshare --mount --propagation private env XA_IN_NS=1 "$0" "$@"
fi

tmp=$(mktemp -d /var/tmp/xa-initramfs-test.XXXXXX)
cleanup() {
    umount -R "$tmp/merged" 2>/dev/null || true
    [ -n "${XA_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=../check.sh source-path=SCRIPTDIR
. "$src/tests/check.sh"

# 1. The root (cached), copied into a fresh ext4 image on a loop device: MODULES=dep (and
# dracut --hostonly) look up the block device and file system of "/" in /proc/mounts, which
# a chroot on an overlay or a plain directory cannot answer.
"$here/make-root.sh" "$tmp/lower"
mkdir -p "$tmp/merged"
truncate -s 3G "$tmp/root.img"
mkfs.ext4 -q -F -L xa-test-root -d "$(readlink -f "$tmp/lower")" "$tmp/root.img"
mount -o loop "$tmp/root.img" "$tmp/merged"
root=$tmp/merged
kver=$(basename "$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n1)")
echo "kernel in the root: $kver, running: $(uname -r)"
check "the root's kernel is not the running one (the hooks must plan for the image's)" \
    test ! -e "$root/usr/lib/modules/$(uname -r)"

# 2. Install the project as the packages do (debhelper: prefix /usr, sysconfdir /etc). The
# build under test must have been configured that way (the policy directory is compiled
# in); otherwise build the program once more so.
inst_build=$build
if ! grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$build/CMakeCache.txt" ||
    ! grep -qE '^CMAKE_INSTALL_SYSCONFDIR:PATH=/etc$' "$build/CMakeCache.txt"; then
    inst_build=$build/boot-prefix-usr
    xa_say "boot: configuring a build like the packages' in $inst_build"
    cmake -S "$src" -B "$inst_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
        -DCMAKE_INSTALL_SYSCONFDIR=/etc -DBUILD_TESTING=OFF >/dev/null
    nice -n 10 cmake --build "$inst_build" -j2 --target xen-autoload >/dev/null
fi
DESTDIR=$root cmake --install "$inst_build" >"$tmp/install.log"
check "cmake --install into the root" test -x "$root/usr/sbin/xen-autoload"
# A policy with a deny rule: the denied module must stay out of every image. It names the
# module by its alias, which only the tree of the image's kernel resolves (xen_scsiback):
# the chroot runs the host's kernel, whose release has no tree in the root, so this holds
# only when the hooks plan for the kernel being built (mkinitramfs's ${version}, dracut's
# $kernel), not for the running one.
echo "deny xen-backend:vscsi" >"$root/etc/xen-autoload/test-deny.conf"

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
in_root() { chroot "$root" "$@"; }

# What every image must contain. Libraries: whatever the binary links, per ldd in the root,
# plus libkmod.so.2, which the binary dlopen()s (src/autoload/lib/dynlib.h) so ldd cannot see it.
mapfile -t libs < <(in_root ldd /usr/sbin/xen-autoload | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
check "ldd found the binary's libraries (${#libs[@]})" test "${#libs[@]}" -ge 1
mapfile -t -O "${#libs[@]}" libs < <(in_root ldconfig -p | sed -n 's/^[[:space:]]*libkmod\.so\.2 (libc6,x86-64) => //p')
check "libkmod.so.2 found in the root" test -n "$(in_root ldconfig -p | grep -c 'libkmod\.so\.2 ')"
required_files=(usr/sbin/xen-autoload usr/bin/timeout usr/lib/xen-autoload/default.conf
    etc/xen-autoload/local.conf etc/xen-autoload/test-deny.conf)
for lib in "${libs[@]}"; do required_files+=("${lib#/}"); done
# The policy's modules for dom0/driver-domain (config/default.conf) and the frontends.
required_modules=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback xen-pciback
    xen-acpi-processor xen-blkfront xen-netfront xen-scsifront xen-pcifront)

# check_image NAME LISTFILE: the common assertions on one image's file list.
check_image() {
    local name=$1 list=$2 f m
    # Paths as listed, without a leading "./" or "/", and with /lib, /bin, /sbin folded into
    # /usr (both generators make usr-merged images on a usr-merged system).
    sed -e 's#^\./##' -e 's#^/##' -e 's#^\(lib\|lib64\|bin\|sbin\)/#usr/\1/#' "$list" | sort -u >"$list.norm"
    for f in "${required_files[@]}"; do
        case $f in lib/* | lib64/* | bin/* | sbin/*) f=usr/$f ;; esac
        check "$name: has $f" grep -qxF "$f" "$list.norm"
    done
    check "$name: has the udev rules" grep -qE '^usr/lib/udev/rules.d/70-xen-autoload.rules$' "$list.norm"
    for m in "${required_modules[@]}"; do
        check "$name: has module $m" grep -qE "/$m\.ko(\.[gx]z|\.zst)?$" "$list.norm"
    done
    check "$name: denied xen-scsiback left out" bash -c "! grep -qE '/xen-scsiback\.ko' '$list.norm'"
    printf '{"name":"image_files_%s","value":%s,"unit":"files"}\n' "$name" "$(wc -l <"$list.norm")" >>"$metrics"
}

# 4 (started first). dracut: --no-hostonly (generic) and --hostonly, both in the background
# while initramfs-tools builds its images (3.): the generic image alone took 71 s of the
# test's 134 s, most of it one process at a time. Our module is picked up by its check().
# build_dracut MODE: one image, its log and build time; checked after the wait below.
build_dracut() {
    local mode=$1 t0 t1
    t0=$(date +%s.%N)
    in_root nice -n 10 dracut --force "--$mode" --kver "$kver" "/tmp/dracut-$mode.img" \
        >"$tmp/dracut-$mode.log" 2>&1 || return 1
    t1=$(date +%s.%N)
    printf '{"name":"dracut_%s_seconds","value":%s,"unit":"s"}\n' "$mode" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$metrics"
}
dracut_modes=(no-hostonly hostonly)
declare -A dracut_pid
for mode in "${dracut_modes[@]}"; do
    build_dracut "$mode" &
    dracut_pid[$mode]=$!
done

# 3. initramfs-tools: MODULES=most (Debian's default) and MODULES=dep, each with its own
# configuration directory (mkinitramfs -d).
for mode in most dep; do
    conf=/etc/initramfs-tools-$mode
    in_root cp -a /etc/initramfs-tools "$conf"
    sed -i "s/^MODULES=.*/MODULES=$mode/" "$root$conf/initramfs.conf"
    t0=$(date +%s.%N)
    if in_root env MODULES="$mode" nice -n 10 mkinitramfs -d "$conf" -o "/tmp/initrd-$mode.img" "$kver" \
        >"$tmp/mkinitramfs-$mode.log" 2>&1; then
        echo "ok: mkinitramfs MODULES=$mode built"
    else
        echo "FAIL: mkinitramfs MODULES=$mode" >&2
        tail -20 "$tmp/mkinitramfs-$mode.log" >&2
        fails=$((fails + 1))
        continue
    fi
    t1=$(date +%s.%N)
    printf '{"name":"mkinitramfs_%s_seconds","value":%s,"unit":"s"}\n' "$mode" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$metrics"
    in_root lsinitramfs "/tmp/initrd-$mode.img" >"$tmp/list-$mode"
    check_image "mkinitramfs-$mode" "$tmp/list-$mode"
    check "mkinitramfs-$mode: has the early script" grep -qxF "usr/scripts/init-top/00-xen-autoload" \
        <(sed -e 's|^scripts/|usr/scripts/|' "$tmp/list-$mode.norm")
    # The early script must come before udev's coldplug in init-top's ORDER.
    mkdir -p "$tmp/unpacked-$mode"
    in_root unmkinitramfs "/tmp/initrd-$mode.img" "/tmp/unpacked-$mode" >/dev/null 2>&1 || true
    order=$(find "$root/tmp/unpacked-$mode" -path '*/scripts/init-top/ORDER' | head -n1)
    if [ -n "$order" ]; then
        xa_line=$(grep -n '00-xen-autoload' "$order" | cut -d: -f1 | head -n1)
        udev_line=$(grep -n '/init-top/udev' "$order" | cut -d: -f1 | head -n1)
        check "mkinitramfs-$mode: early script runs before init-top/udev (${xa_line:-?} < ${udev_line:-?})" \
            test "${xa_line:-0}" -gt 0 -a "${udev_line:-0}" -gt "${xa_line:-0}"
    else
        echo "FAIL: mkinitramfs-$mode: no scripts/init-top/ORDER in the unpacked image" >&2
        fails=$((fails + 1))
    fi
done

# The early scripts on this (native, not Xen) machine: they must return at once and never
# run the program.
if [ ! -e /proc/xen ] && [ ! -e /sys/hypervisor/type ]; then
    in_root sh -x /usr/share/initramfs-tools/scripts/init-top/00-xen-autoload >"$tmp/native-itools.log" 2>&1 || true
    check "initramfs-tools early script: no-op on a native boot" \
        bash -c "! grep -q 'xen-autoload load' '$tmp/native-itools.log'"
    in_root sh -x /usr/lib/dracut/modules.d/90xen-autoload/xen-autoload-early.sh >"$tmp/native-dracut.log" 2>&1 || true
    check "dracut early hook: no-op on a native boot" bash -c "! grep -q 'xen-autoload load' '$tmp/native-dracut.log'"
else
    echo "FAIL: this machine is a Xen domain: the native no-op checks cannot run here" >&2
    fails=$((fails + 1))
fi

# 4 (checked). The dracut images started above.
for mode in "${dracut_modes[@]}"; do
    if wait "${dracut_pid[$mode]}"; then
        echo "ok: dracut --$mode built"
    else
        echo "FAIL: dracut --$mode" >&2
        tail -20 "$tmp/dracut-$mode.log" >&2
        fails=$((fails + 1))
        continue
    fi
    in_root lsinitrd "/tmp/dracut-$mode.img" >"$tmp/lsinitrd-$mode"
    # lsinitrd prints "ls -l"-style lines: the path is the 9th field on (symlinks: "a -> b").
    awk 'NF >= 9 && $1 ~ /^[-dlcbps]/ { p = $9; print p }' "$tmp/lsinitrd-$mode" >"$tmp/list-dracut-$mode"
    check "dracut-$mode: xen-autoload module included" grep -qE '^xen-autoload$' \
        <(sed -n '/^dracut modules:/,/^=\+$/p' "$tmp/lsinitrd-$mode")
    check_image "dracut-$mode" "$tmp/list-dracut-$mode"
    check "dracut-$mode: has the pre-udev hook" grep -qE '^usr/lib/dracut/hooks/pre-udev/00-xen-autoload-early.sh$' \
        "$tmp/list-dracut-$mode.norm"
done

# 4b. A policy the program refuses fails the image build, loudly: the generator exits
# non-zero and its output carries the program's message naming the file (the hooks used
# to throw stderr away and build an image without the role's drivers).
echo "frobnicate xen-netback" >"$root/etc/xen-autoload/zz-broken.conf"
if in_root mkinitramfs -d /etc/initramfs-tools-dep -o /tmp/initrd-broken.img "$kver" >"$tmp/mkinitramfs-broken.log" 2>&1; then
    echo "FAIL: mkinitramfs with a broken policy built an image" >&2
    fails=$((fails + 1))
else
    check "mkinitramfs with a broken policy fails naming the file" grep -q 'zz-broken.conf' "$tmp/mkinitramfs-broken.log"
    check "mkinitramfs with a broken policy says what to run" grep -q "then run 'update-initramfs -u -k $kver'" "$tmp/mkinitramfs-broken.log"
fi
if in_root dracut --force --no-hostonly --kver "$kver" /tmp/dracut-broken.img >"$tmp/dracut-broken.log" 2>&1; then
    echo "FAIL: dracut with a broken policy built an image" >&2
    fails=$((fails + 1))
else
    check "dracut with a broken policy fails naming the file" grep -q 'zz-broken.conf' "$tmp/dracut-broken.log"
    check "dracut with a broken policy says what to run" grep -q "then run 'dracut -f --kver $kver'" "$tmp/dracut-broken.log"
fi
rm -f "$root/etc/xen-autoload/zz-broken.conf"

# 5. The deny list against the real udev: the daemon (from the installed package, --once
# --dry-run on a dom0 fixture whose policy denies xen-scsiback) writes
# /run/modprobe.d/xen-autoload-deny.conf; udev's kmod builtin, asked for the MODALIAS of a
# vscsi backend as 80-drivers.rules would, must refuse the module. libkmod looks for the
# tree of the running kernel, so that name points at the root's kernel (nothing is inserted:
# the refusal comes before any insertion).
fx=/tmp/fixture-dom0
cp -a "$src/tests/fixtures/pv-dom0-before-xenfs" "$root$fx"
mkdir -p "$root$fx/lib" "$root$fx/sys/module" "$root$fx/etc/xen-autoload"
# The index files inside the --root (a symlink leading out of a --root is refused).
mkdir -p "$root$fx/lib/modules/$kver"
cp "$root/usr/lib/modules/$kver"/modules.* "$root$fx/lib/modules/$kver/"
echo "$kver" >"$root$fx/proc/sys/kernel/osrelease"
: >"$root$fx/proc/modules"
echo "deny xen-scsiback" >"$root$fx/etc/xen-autoload/deny.conf"
in_root /usr/sbin/xen-autoload daemon --once --dry-run --root "$fx" --vendor-dir /usr/lib/xen-autoload \
    --deny-file /run/modprobe.d/xen-autoload-deny.conf >"$tmp/daemon-once.log" 2>&1 || true
check "daemon wrote the deny list" grep -q '^blacklist xen_scsiback' "$root/run/modprobe.d/xen-autoload-deny.conf"
running=$(uname -r)
[ -e "$root/usr/lib/modules/$running" ] || ln -s "$kver" "$root/usr/lib/modules/$running"
SYSTEMD_LOG_LEVEL=debug in_root udevadm test-builtin 'kmod load xen-backend:vscsi' /sys/class/mem/null \
    >"$tmp/kmod-builtin.log" 2>&1 || true
check "udev kmod builtin resolves xen-backend:vscsi" grep -q "Loading module: xen-backend:vscsi" "$tmp/kmod-builtin.log"
check "udev kmod builtin refuses the denied xen_scsiback" grep -q "Module 'xen_scsiback' is deny-listed" \
    "$tmp/kmod-builtin.log"

[ "$fails" -eq 0 ] || { echo "initramfs-test: $fails check(s) failed" >&2; exit 1; }
echo "initramfs-test: all checks passed"
