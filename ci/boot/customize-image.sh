#!/bin/bash
# mmdebstrap customize hook of stage image: install the in-image check unit, its script and
# the PV guest's xl config into ROOT. Runs on the host as root after all packages are in.
# Usage: customize-image.sh ROOT
set -euo pipefail
root=${1:?usage: customize-image.sh ROOT}
here=$(cd "$(dirname "$0")" && pwd)

# Every installed kernel (Debian's, and ours when the image has it): the guest boots the
# dom0's kernel, so each gets its own guest config; xa-check picks it by `uname -r`.
kvers=()
for d in "$root"/lib/modules/*/; do
    k=$(basename "$d")
    [ -f "$root/boot/vmlinuz-$k" ] && kvers+=("$k")
done
[ ${#kvers[@]} -gt 0 ] || { echo "customize-image: no kernel in $root/boot and $root/lib/modules" >&2; exit 1; }

install -D -m 0755 "$here/xa-check.sh" "$root/usr/local/lib/xa-check/xa-check"
install -D -m 0755 "$here/xa-measure.sh" "$root/usr/local/lib/xa-check/xa-measure"
install -D -m 0644 "$here/xa-storm.sh" "$root/usr/local/lib/xa-check/xa-storm"
install -D -m 0644 "$here/xa-faults.sh" "$root/usr/local/lib/xa-check/xa-faults"
install -D -m 0644 "$here/xa-lib.sh" "$root/usr/local/lib/xa-check/xa-lib"
install -D -m 0644 "$here/xa-domains.sh" "$root/usr/local/lib/xa-check/xa-domains"
install -D -m 0755 "$here/capture-fixture.sh" "$root/usr/local/lib/xa-check/capture-fixture"
install -D -m 0644 "$here/expected-checks.txt" "$root/usr/local/lib/xa-check/expected-checks.txt"
install -D -m 0644 "$here/xa-check.service" "$root/etc/systemd/system/xa-check.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../xa-check.service "$root/etc/systemd/system/multi-user.target.wants/xa-check.service"
# On Arm there is one guest type (xl's default: no "type" line; "pv" is refused there).
arch=$(chroot "$root" dpkg --print-architecture)
for k in "${kvers[@]}"; do
    sed -e "s/@KVER@/$k/g" -e "s|@LIB@|/var/lib/xa-check|g" "$here/xa-guest.cfg" |
        if [ "$arch" = arm64 ]; then sed '/^type = /d'; else cat; fi >"$root/etc/xen/xa-guest-$k.cfg"
done

# No login prompts: nobody logs in, and a getty on the serial console would put "login:"
# in front of the markers the host reads.
for unit in serial-getty@.service getty@.service console-getty.service getty-static.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

echo xa-ci >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 xa-ci\n' >"$root/etc/hosts"

# The file: source of our repository exists only on the build host: drop it from the image
# so apt inside the image does not point at a missing directory. Before that, record where
# apt took our packages from (the package lists are still there; mmdebstrap cleans them
# after this hook) for stage image's check.
if [ -n "${XA_IMAGE_REPO:-}" ]; then
    # shellcheck disable=SC2086 # a list of package names
    chroot "$root" apt-cache policy ${XA_IMAGE_OUR_PACKAGES:-xen-autoload xen-host} \
        >"${XA_IMAGE_POLICY:?}" 2>&1 || true
    for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*; do
        [ -f "$f" ] || continue
        if grep -qF "file:$XA_IMAGE_REPO" "$f"; then
            grep -vF "file:$XA_IMAGE_REPO" "$f" >"$f.new" || true
            mv "$f.new" "$f"
        fi
    done
fi
