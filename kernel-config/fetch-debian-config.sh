#!/bin/bash
# Print the path of Debian's kernel config for FLAVOUR (amd64, cloud-amd64, rt-amd64),
# taken from the linux-config-6.1 package: fetched with `apt-get download` (the machine's
# own apt sources) into $XA_CACHE/debs, unpacked with dpkg-deb -x, decompressed once.
# Nothing is installed. Exit: 0 path printed; 2 bad flavour or the package/config
# cannot be fetched. Concurrent runs: one fetches (lock debian-config, ci/lib.sh), in a
# private directory; the .deb and the config enter the cache by one rename each.
set -euo pipefail
# shellcheck source=../ci/lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/../ci/lib.sh"
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
# fetch NEW: Debian's config for FLAVOUR into the file NEW (the .deb from the cache, or
# downloaded into NEW's private directory and linked into the cache).
fetch() {
    local new=$1 tmp deb src
    tmp=$(dirname "$new")
    deb=$(compgen -G "$debs/${pkg}_${version//:/%3a}_*.deb" | head -n 1 || true)
    if [ -z "$deb" ]; then
        (cd "$tmp" && apt-get download -qq "$pkg=$version" >&2) ||
            { echo "fetch-debian-config: $pkg=$version: apt-get download failed" >&2; exit 2; }
        deb=$(compgen -G "$tmp/${pkg}_${version//:/%3a}_*.deb" | head -n 1)
        ln "$deb" "$debs/${deb##*/}" 2>/dev/null || true
    fi
    dpkg-deb -x "$deb" "$tmp/x"
    src=$tmp/x/usr/src/$pkg/config.amd64_none_$flavour.xz
    [ "$flavour" = rt-amd64 ] && src=$tmp/x/usr/src/$pkg/config.amd64_rt_amd64.xz
    [ -f "$src" ] || { echo "fetch-debian-config: $deb: no ${src#"$tmp/x"} in the package" >&2; exit 2; }
    xz -dc "$src" >"$new"
    [ -s "$new" ] || { echo "fetch-debian-config: $src: empty" >&2; exit 2; }
}
# (not in a condition: errexit must hold in fetch; ci/lib.sh)
set +e
xa_cache_build debian-config "$config" fetch >&2
rc=$?
set -e
[ "$rc" -eq 0 ] || exit 2
echo "$config"
