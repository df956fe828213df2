#!/bin/bash
# Install and purge linux-image-xen-autoload with apt in a throwaway Debian 12 root
# (mmdebstrap minbase + initramfs-tools, from the machine's own sources) and check that
# the package's maintainer scripts did the work through Debian's kernel hooks:
#   after `apt-get install ./linux-image-xen-autoload_*.deb`: depmod's modules.dep, the
#     /vmlinuz and /initrd.img symlinks (linux-update-symlinks) and /boot/initrd.img-REL,
#     made by initramfs-tools' /etc/kernel/postinst.d hook and holding REL's modules;
#   after `apt-get purge`: no /boot/*-REL file (the initrd removed by the postrm.d hook),
#     no /lib/modules/REL, no symlink left, dpkg knows nothing of the package.
# Install and purge run as mmdebstrap customize hooks (proc, sys and dev mounted by
# mmdebstrap); what each step left is recorded in the root and checked afterwards.
# Usage: tests/packaging/kernel-deb-install.sh DEB    (needs root)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../ci/lib.sh
. "$(dirname "$0")/../../ci/lib.sh"

deb=${1:?usage: kernel-deb-install.sh linux-image-xen-autoload_VERSION_amd64.deb}
[ -f "$deb" ] || { echo "kernel-deb-install: $deb: no such file" >&2; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
pkg=$(dpkg-deb -f "$deb" Package)
[ "$pkg" = linux-image-xen-autoload ] ||
    { echo "kernel-deb-install: $deb: Package is '$pkg', expected linux-image-xen-autoload" >&2; exit 2; }
rel=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./boot/vmlinuz-||p' | head -n 1)
[ -n "$rel" ] || { echo "kernel-deb-install: $deb: no ./boot/vmlinuz-RELEASE inside" >&2; exit 1; }

suite=bookworm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
# Private .deb directories for sync-in/sync-out, merged into the shared cache afterwards.
xa_debs_begin "$XA_CACHE/debs/$suite"
rc=0
cp "$deb" "$work/"
name=$(basename "$deb")

# Each hook is a sh -c command line with the root as $1 (mmdebstrap's hook interface).
# shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook, not here
timeout 1200 nice -n 10 mmdebstrap --mode=root --variant=minbase --format=directory \
    --include=initramfs-tools,zstd,apt \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
    --setup-hook="sync-in $XA_DEBS_IN /var/cache/apt/archives/" \
    --skip=essential/unlink --skip=cleanup/reproducible \
    --customize-hook="copy-in $work/$name /tmp" \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ./tmp/'"$name"' >"$1/xa-install.log" 2>&1 || { cat "$1/xa-install.log"; exit 1; }' \
    --customize-hook="sync-out /var/cache/apt/archives $XA_DEBS_OUT" \
    --customize-hook='{ ls -l "$1/boot" "$1/lib/modules/'"$rel"'"; ls -ld "$1/vmlinuz" "$1/initrd.img"; } >"$1/xa-installed.txt" 2>&1 || true' \
    --customize-hook='chroot "$1" lsinitramfs /boot/initrd.img-'"$rel"' >"$1/xa-initrd.txt" 2>&1 || true' \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get purge -y '"$pkg"' >"$1/xa-purge.log" 2>&1 || { cat "$1/xa-purge.log"; exit 1; }' \
    "$suite" "$root" - >"$work/mmdebstrap.log" 2>&1 < <(xa_apt_sources) || rc=$?
xa_debs_end
[ "$rc" -eq 0 ] ||
    { tail -n 40 "$work/mmdebstrap.log" >&2; echo "kernel-deb-install: mmdebstrap with install/purge hooks failed" >&2; exit 1; }

failures=0
# expect WHAT-HELD WHAT-FAILED COMMAND...: one line per check, ok or FAIL.
expect() {
    local good=$1 badmsg=$2
    shift 2
    if "$@"; then echo "ok: $good"; else echo "FAIL: $badmsg"; failures=$((failures + 1)); fi
}
has() { grep -q -- "$1" "$root/$2"; }

# After the install.
expect "postinst ran initramfs-tools' hook (update-initramfs: Generating /boot/initrd.img-$rel)" \
    "no 'update-initramfs: Generating /boot/initrd.img-$rel' in the install log" \
    has "update-initramfs: Generating /boot/initrd.img-$rel" xa-install.log
for f in "vmlinuz-$rel" "config-$rel" "System.map-$rel" "initrd.img-$rel"; do
    expect "installed: /boot/$f" "after install: /boot/$f missing" has " $f\$" xa-installed.txt
done
expect "installed: /lib/modules/$rel/modules.dep (depmod in postinst)" \
    "after install: /lib/modules/$rel/modules.dep missing (depmod not run)" has ' modules.dep$' xa-installed.txt
expect "/vmlinuz -> boot/vmlinuz-$rel (linux-update-symlinks)" \
    "after install: /vmlinuz does not point to boot/vmlinuz-$rel" has "vmlinuz -> boot/vmlinuz-$rel\$" xa-installed.txt
expect "/initrd.img -> boot/initrd.img-$rel" \
    "after install: /initrd.img does not point to boot/initrd.img-$rel" has "initrd.img -> boot/initrd.img-$rel\$" xa-installed.txt
n=$(grep -c "lib/modules/$rel/" "$root/xa-initrd.txt" || true)
expect "initrd.img-$rel holds $n entries below lib/modules/$rel" \
    "initrd.img-$rel has nothing of lib/modules/$rel: $(head -n 2 "$root/xa-initrd.txt" | tr '\n' ' ')" \
    test "$n" -gt 0

# After the purge.
left=$(find "$root/boot" "$root/lib/modules" -name "*$rel*" 2>/dev/null || true)
expect "purged: nothing of $rel in /boot and /lib/modules" "left after purge: $(tr '\n' ' ' <<<"$left")" \
    test -z "$left"
links=$(find "$root/vmlinuz" "$root/initrd.img" -maxdepth 0 2>/dev/null || true)
expect "purged: no /vmlinuz, /initrd.img symlinks" "left after purge: $links" test -z "$links"
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
expect "dpkg: $pkg not installed" "dpkg status after purge: '$status'" test -z "${status// /}" -o "$status" = "un "

[ $failures -eq 0 ] || { echo "kernel-deb-install: $failures problems"; exit 1; }
echo "apt install + purge of $name: initrd.img-$rel made and removed by the kernel hooks, nothing left"
