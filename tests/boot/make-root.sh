#!/bin/bash
# Build (once, then cached) a Debian 12 root holding a real Debian kernel and both real
# initramfs generators: initramfs-tools (mkinitramfs, lsinitramfs) and dracut-core (dracut,
# lsinitrd). The boot-integration tests unpack it, install xen-autoload into it and build
# images with the real tools.
# Usage: tests/boot/make-root.sh LINK   (LINK becomes a symlink to the cached root directory,
# which callers must treat as read-only: mount an overlay on it)
# The apt sources are the machine's own (xa_apt_sources): no archive host in the repo.
# Downloaded .debs are kept in $XA_CACHE/debs, the finished root in $XA_CACHE/boot-root.
# Concurrent runs: one builds (lock boot-root, ci/lib.sh xa_cache_build), the others wait
# and reuse its root; a failed build removes only its own directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../ci/lib.sh source-path=SCRIPTDIR
. "$here/../../ci/lib.sh"

out=${1:?usage: make-root.sh LINK}
packages=systemd,udev,kmod,procps,linux-image-amd64,initramfs-tools,dracut-core,zstd,cpio
key=$(printf '%s\n' "$packages" bookworm v1 | sha256sum | cut -c1-12)
cached="$XA_CACHE/boot-root/root-$key"

# build_root NEW: mmdebstrap the root into NEW (log beside it, kept in boot-root/).
build_root() {
    local new=$1 log rc=0
    log=$(dirname "$new")/mmdebstrap.log
    # $1 is the root directory, expanded by mmdebstrap's hook shell, not here.
    # shellcheck disable=SC2016
    mkcache='mkdir -p "$1"/var/cache/apt/archives/'
    xa_say "boot: building the Debian root with mmdebstrap (about 2 minutes, cached afterwards)"
    xa_debs_begin "$XA_CACHE/debs"
    # timeout: a stuck download must not hang the test suite.
    xa_apt_sources | timeout 900 nice -n 10 mmdebstrap --mode=root --format=directory --variant=minbase \
        --include="$packages" \
        --skip=download/empty --skip=essential/unlink \
        --setup-hook="$mkcache" \
        --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
        bookworm "$new" - >"$log" 2>&1 || rc=$?
    xa_debs_end
    cp "$log" "$XA_CACHE/boot-root/mmdebstrap.log" 2>/dev/null || true
    [ "$rc" -eq 0 ] || { tail -20 "$log" >&2; return 1; }
    [ -x "$new/usr/sbin/mkinitramfs" ] || { echo "make-root: no mkinitramfs in the root" >&2; return 1; }
}

xa_cache_build boot-root "$cached" build_root
ln -sfn "$cached" "$out"
