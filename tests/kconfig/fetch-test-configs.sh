#!/bin/bash
# CTest fixture kconfig.fetch-configs: put the real configs check-kernel is tested on in
# DIR. Nothing here is committed: Debian's configs come from linux-config-6.1 (apt-get
# download, cached in /var/cache/xen-autoload-ci/debs), the rest is generated from the
# unpacked linux-source-6.1 tree. Any missing input fails the fixture, and CTest then
# reports the dependent tests as not run (a failure), never as passed.
#   debian-amd64.config          Debian's amd64 flavour
#   debian-cloud-amd64.config    Debian's cloud-amd64 flavour (+ .xz, as Debian ships it)
#   x86_64_defconfig.config      make x86_64_defconfig
#   merged-small.config          build-kernel.sh --flavour small --config-only
#   merged-debian.config         build-kernel.sh --flavour debian --config-only
set -euo pipefail
dir=${1:?usage: fetch-test-configs.sh DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../ci/lib.sh source-path=SCRIPTDIR
. "$top/ci/lib.sh"
kc=$top/kernel-config
mkdir -p "$dir"
rm -f "$dir"/*.config "$dir"/*.xz

cp "$("$kc/fetch-debian-config.sh" amd64)" "$dir/debian-amd64.config"
cp "$("$kc/fetch-debian-config.sh" cloud-amd64)" "$dir/debian-cloud-amd64.config"
xz -k "$dir/debian-cloud-amd64.config"

# $XA_CACHE/kernel (the unpacked tree, merge-FLAVOUR/, obj-FLAVOUR/) is shared with other
# runs' kernel stages: used under the lock kernel-workdir (ci/lib.sh), results copied out.
xa_lock kernel-workdir
srctree=$("$kc/unpack-source.sh")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s -C "$srctree" O="$tmp/defconfig" ARCH=x86_64 x86_64_defconfig
cp "$tmp/defconfig/.config" "$dir/x86_64_defconfig.config"

cp "$("$kc/build-kernel.sh" --flavour small --config-only)" "$dir/merged-small.config"
cp "$("$kc/build-kernel.sh" --flavour debian --config-only)" "$dir/merged-debian.config"
xa_unlock kernel-workdir
ls -l "$dir"
