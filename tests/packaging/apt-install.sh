#!/bin/bash
# apt-get install xen-autoload from the published, signed apt repository into a fresh
# Debian 12 root made with mmdebstrap (the machine's sources plus ours, signed-by our key),
# then check: the version apt installed is the repository's, the binary runs, the
# initramfs-tools hook is in the initramfs, and reinstalling fires the update-initramfs trigger.
# Usage: tests/packaging/apt-install.sh    (needs root; uses $XA_OUT/repo/apt)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

suite=bookworm
repo=$XA_OUT/repo/apt
key=$repo/xen-autoload-archive.gpg
if [ ! -f "$key" ] || [ ! -f "$repo/InRelease" ]; then
    echo "apt-install: $repo: not a signed repository" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A snapshot: a concurrent publish must not change the repository under apt.
cp -a "$repo" "$work/repo"
root=$work/root
# Private .deb directories for sync-in/sync-out, merged into the shared cache afterwards.
xa_debs_begin "$XA_CACHE/debs/$suite"
rc=0
# --skip=cleanup/reproducible keeps apt's history.log, the proof that apt installed it.
# A kernel and initramfs-tools too, so the hook runs for real inside update-initramfs.
# shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook, not here
xa_apt_sources | nice -n 10 mmdebstrap --mode=root --variant=minbase --format=directory \
    --include=xen-autoload,initramfs-tools,linux-image-amd64,zstd \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
    --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
    --skip=essential/unlink --skip=cleanup/reproducible \
    --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
    "$suite" "$root" - "deb [signed-by=$work/repo/xen-autoload-archive.gpg] file:$work/repo ./" || rc=$?
xa_debs_end
[ "$rc" -eq 0 ] || { echo "apt-install: mmdebstrap failed (exit $rc)" >&2; exit 1; }

want=$(awk '$1=="Package:"{p=$2} $1=="Version:" && p=="xen-autoload"{print $2; exit}' "$work/repo/Packages")
have=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version}' xen-autoload)
if [ -z "$want" ] || [ "$have" != "$want" ]; then
    echo "apt-install: installed '$have', repository has '$want'" >&2
    exit 1
fi
grep -q "^Install: .*xen-autoload:[a-z0-9]* ($have" "$root/var/log/apt/history.log" ||
    { echo "apt-install: apt's history.log does not show xen-autoload $have installed by apt" >&2; exit 1; }
echo "ok: apt installed xen-autoload $have from the signed repository"

out=$(chroot "$root" /usr/sbin/xen-autoload --version)
grep -qF "${have%%-*}" <<<"$out" || { echo "apt-install: xen-autoload --version says '$out', expected ${have%%-*}" >&2; exit 1; }
echo "ok: xen-autoload --version: $out"

kver=$(basename "$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)")
initrd=/boot/initrd.img-$kver
# (lists are captured first: grep -q closing a pipe early would fail under pipefail)
ours() {
    chroot "$root" lsinitramfs "$initrd" >"$work/initrd.list"
    grep xen-autoload "$work/initrd.list" || true
}
files=$(ours)
[ -n "$files" ] || { echo "apt-install: $initrd has no xen-autoload file (initramfs-tools hook not run)" >&2; exit 1; }
echo "ok: $initrd contains: $(tr '\n' ' ' <<<"$files")"

# Installing the package again must update the initramfs (dh_installinitramfs's trigger).
before=$(stat -c %Y "$root$initrd")
sleep 1
deb=$(find "$work/repo" -name 'xen-autoload_*.deb' | head -n 1)
cp "$deb" "$root/tmp/"
log=$(chroot "$root" dpkg -i "/tmp/$(basename "$deb")" 2>&1)
after=$(stat -c %Y "$root$initrd")
if ! grep -q 'Processing triggers for initramfs-tools' <<<"$log" || [ "$after" -le "$before" ]; then
    printf 'apt-install: reinstalling did not update %s:\n%s\n' "$initrd" "$log" >&2
    exit 1
fi
echo "ok: reinstall fired the update-initramfs trigger ($initrd rewritten)"
# Removing it must update the initramfs again, without our files.
log=$(chroot "$root" dpkg -r xen-autoload 2>&1)
if ! grep -q 'Processing triggers for initramfs-tools' <<<"$log" || [ -n "$(ours)" ]; then
    printf 'apt-install: removing did not rebuild %s without xen-autoload:\n%s\n' "$initrd" "$log" >&2
    exit 1
fi
echo "ok: removal fired the trigger; $initrd no longer has xen-autoload files"
echo "xen-autoload $have installed by apt from the signed repository; runs; initramfs hook and trigger work on install and removal"
