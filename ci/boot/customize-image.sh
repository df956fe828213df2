#!/bin/bash
# mmdebstrap customize hook of stage image: install the in-image check unit, its script and
# the PV guest's xl config into ROOT. Runs on the host as root after all packages are in.
# Usage: customize-image.sh ROOT
set -euo pipefail
root=${1:?usage: customize-image.sh ROOT}
here=$(cd "$(dirname "$0")" && pwd)

kver=$(basename "$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)")
[ -n "$kver" ] || { echo "customize-image: no kernel in $root/lib/modules" >&2; exit 1; }

install -D -m 0755 "$here/xa-check.sh" "$root/usr/local/lib/xa-check/xa-check"
install -D -m 0755 "$here/xa-measure.sh" "$root/usr/local/lib/xa-check/xa-measure"
install -D -m 0644 "$here/xa-check.service" "$root/etc/systemd/system/xa-check.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../xa-check.service "$root/etc/systemd/system/multi-user.target.wants/xa-check.service"
sed "s/@KVER@/$kver/g" "$here/xa-guest.cfg" >"$root/etc/xen/xa-guest.cfg"

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
    chroot "$root" apt-cache policy xen-autoload xen-host >"${XA_IMAGE_POLICY:?}" 2>&1 || true
    for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*; do
        [ -f "$f" ] || continue
        if grep -qF "file:$XA_IMAGE_REPO" "$f"; then
            grep -vF "file:$XA_IMAGE_REPO" "$f" >"$f.new" || true
            mv "$f.new" "$f"
        fi
    done
fi
