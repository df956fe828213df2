#!/bin/bash
# piuparts on xen-autoload and xen-autoload-dracut: install + purge, then upgrade from the
# previous build + remove + purge, in a Debian 12 minbase chroot (base-tarball.sh).
# The previous build is the last successful run's .debs ($XA_CACHE/pkg-previous); when it
# has the current version (or there is none yet) it is relabelled VERSION~prev (control
# fields only), so dpkg performs a real version upgrade through the maintainer scripts.
# xen-host is left out: it only pulls Xen and a kernel, which the image stage installs.
# Usage: tests/packaging/piuparts.sh     (needs root; uses $XA_OUT/debs)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

suite=bookworm
tested=(xen-autoload xen-autoload-dracut)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

debs=()
for pkg in "${tested[@]}"; do
    f=$(find "$XA_OUT/debs" -name "${pkg}_*.deb" | head -n 1)
    [ -n "$f" ] || { echo "piuparts: no ${pkg}_*.deb in $XA_OUT/debs" >&2; exit 1; }
    debs+=("$f")
done
version=$(dpkg-deb -f "${debs[0]}" Version)

# The previous build as a trusted local apt repository, bind-mounted into the chroot.
old=$work/previous
mkdir -p "$old" "$work/pkg-previous"
# A copy, taken under the lock stage packages replaces $XA_CACHE/pkg-previous with.
xa_lock pkg-previous
find "$XA_CACHE/pkg-previous" -maxdepth 1 -name '*.deb' -exec cp -t "$work/pkg-previous/" {} + 2>/dev/null || true
xa_unlock pkg-previous
for pkg in "${tested[@]}"; do
    prev=$(find "$work/pkg-previous" -name "${pkg}_*.deb" | head -n 1 || true)
    [ -n "$prev" ] || prev=$(find "$XA_OUT/debs" -name "${pkg}_*.deb" | head -n 1)
    prev_version=$(dpkg-deb -f "$prev" Version)
    if dpkg --compare-versions "$prev_version" lt "$version"; then
        cp "$prev" "$old/"
        continue
    fi
    relabelled=${version}~prev
    dpkg-deb -R "$prev" "$work/unpacked"
    # Version, and the inter-package relations that name the version (xen-autoload (>= V)).
    escaped=${prev_version//./\\.}
    sed -i -E "/^(Version|Depends|Pre-Depends|Recommends|Breaks):/ s/(^Version: |[(][<>=]+ )$escaped([),]|\$)/\1$relabelled\2/g" \
        "$work/unpacked/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$work/unpacked" \
        "$old/${pkg}_${relabelled}_$(dpkg-deb -f "$prev" Architecture).deb" >/dev/null
    rm -rf "$work/unpacked"
done
(cd "$old" && apt-ftparchive packages . >Packages)
echo "previous build: $(cd "$old" && for f in *.deb; do printf '%s=%s ' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)"; done)"

base=$("$(dirname "$0")/base-tarball.sh")
# piuparts writes the chroot's sources.list from --mirror and the extra repository; the
# mirror is the machine's own (first URIs entry of its sources), never a name in the repo.
mirror=$(xa_apt_sources | sed -n -E 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+([^[:space:]]+).*/\1/p' | head -n 1)
[ -n "$mirror" ] || { echo "piuparts: no mirror in the machine's apt sources" >&2; exit 1; }
log=$work/piuparts.log
status=0
nice -n 10 piuparts --basetgz="$base" --distribution="$suite" --mirror="$mirror main" \
    --bindmount="$old" --extra-repo="deb [trusted=yes] file:$old ./" \
    --log-file="$log" "${debs[@]}" >/dev/null 2>&1 || status=$?
grep -E '(PASS|FAIL|ERROR):|apt-cache knows|not in the archive|Unpacking .* over' "$log" || true
cp "$log" "$XA_OUT/pkg/logs/piuparts-full.log" 2>/dev/null || true
[ $status -eq 0 ] || { echo "piuparts: exit $status" >&2; exit 1; }
for want in "PASS: Installation and purging test." "PASS: Installation, upgrade and purging tests."; do
    grep -qF "$want" "$log" || { echo "piuparts: missing '$want' (upgrade not tested?)" >&2; exit 1; }
done
echo "piuparts: install/purge, upgrade from the previous build to $version, remove, purge: pass"
