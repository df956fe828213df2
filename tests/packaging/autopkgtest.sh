#!/bin/bash
# autopkgtest: run debian/tests against the built .debs installed in a Debian 12 minbase
# testbed: base-tarball.sh's tarball unpacked into a throw-away directory and driven by
# autopkgtest-virt-chroot. (autopkgtest-virt-unshare would need /etc/subuid ranges for
# the user running it; the CI machine's user setup is not ours to change.) Every test must
# PASS: a SKIP or an empty run fails this script. --apt-upgrade (-U): the tarball has no
# package lists (mmdebstrap removes them), test dependencies come from the archive.
# Usage: tests/packaging/autopkgtest.sh    (uses $XA_OUT/debs and the source tarball in $XA_OUT/pkg)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

version=$("$XA_TOP/ci/check-versions.sh")
tarball=$XA_OUT/pkg/rpmbuild/SOURCES/xen-autoload-$version.tar.gz
[ -f "$tarball" ] || { echo "autopkgtest: no source tarball $tarball" >&2; exit 1; }
mapfile -t debs < <(find "$XA_OUT/debs" -name 'xen-autoload*.deb' ! -name '*-dbgsym_*' | sort)
[ ${#debs[@]} -gt 0 ] || { echo "autopkgtest: no xen-autoload*.deb in $XA_OUT/debs" >&2; exit 1; }

work=$(mktemp -d)
testbed=$work/testbed
cleanup() {
    for m in dev/pts dev sys proc; do
        ! mountpoint -q "$testbed/$m" || umount -l "$testbed/$m"
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
tar -xzf "$tarball" -C "$work"
base=$("$(dirname "$0")/base-tarball.sh")
mkdir -p "$testbed"
tar -xzf "$base" -C "$testbed"
# What apt and maintainer scripts expect of a running system; name resolution for apt.
mount -t proc proc "$testbed/proc"
mount -t sysfs sysfs "$testbed/sys"
mount --bind /dev "$testbed/dev"
mount --bind /dev/pts "$testbed/dev/pts"
cp -L /etc/resolv.conf "$testbed/etc/resolv.conf"
results=$XA_OUT/pkg/autopkgtest
rm -rf "$results"
status=0
nice -n 10 autopkgtest --apt-upgrade --output-dir="$results" "${debs[@]}" "$work/xen-autoload-$version/" \
    -- chroot "$testbed" || status=$?
echo "autopkgtest exit status: $status"
cat "$results/summary" 2>/dev/null || true
# Exit 0 = all passed; 2 = some skipped; 8 = no tests (see autopkgtest(1)): only 0 passes.
[ $status -eq 0 ] || { echo "autopkgtest: exit $status (0 required)" >&2; exit 1; }
passed=$(grep -c ' PASS' "$results/summary" || true)
if [ "$passed" -eq 0 ] || grep -qvE ' PASS' "$results/summary"; then
    echo "autopkgtest: not every test passed" >&2
    exit 1
fi
echo "autopkgtest: $passed tests PASS ($(awk '{print $1}' "$results/summary" | tr '\n' ' '))"
