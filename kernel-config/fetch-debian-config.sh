#!/bin/bash
# Print the path of Debian's kernel config for FLAVOUR (amd64, cloud-amd64, rt-amd64),
# taken from the linux-config-6.1 package: fetched with `apt-get download` (the machine's
# own apt sources) into $XA_CACHE/debs, unpacked with dpkg-deb -x, decompressed once.
# Nothing is installed. Exit: 0 path printed; 2 bad flavour or the package/config
# cannot be fetched.
set -euo pipefail
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
flavour=${1:-}
case $flavour in
    amd64 | cloud-amd64 | rt-amd64) ;;
    *) echo "fetch-debian-config: FLAVOUR: unknown value: '$flavour' (amd64, cloud-amd64, rt-amd64)" >&2; exit 2 ;;
esac
pkg=linux-config-6.1
version=$(apt-cache policy "$pkg" | sed -n 's/^  Candidate: //p')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    echo "fetch-debian-config: $pkg: no candidate version in the apt sources (apt-get update?)" >&2
    exit 2
fi
debs=$XA_CACHE/debs
out=$XA_CACHE/kernel/debian-configs
mkdir -p "$debs" "$out"
config=$out/config-$version-$flavour
if [ ! -s "$config" ]; then
    deb=$(compgen -G "$debs/${pkg}_${version//:/%3a}_*.deb" | head -n 1 || true)
    if [ -z "$deb" ]; then
        (cd "$debs" && apt-get download -qq "$pkg=$version" >&2) ||
            { echo "fetch-debian-config: $pkg=$version: apt-get download failed" >&2; exit 2; }
        deb=$(compgen -G "$debs/${pkg}_${version//:/%3a}_*.deb" | head -n 1)
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp"
    src=$tmp/usr/src/$pkg/config.amd64_none_$flavour.xz
    [ "$flavour" = rt-amd64 ] && src=$tmp/usr/src/$pkg/config.amd64_rt_amd64.xz
    [ -f "$src" ] || { echo "fetch-debian-config: $deb: no ${src#"$tmp"} in the package" >&2; exit 2; }
    xz -dc "$src" >"$config.tmp"
    mv "$config.tmp" "$config"
fi
echo "$config"
