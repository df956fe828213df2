#!/bin/bash
# dnf (Debian's package) reads the published dnf repository through --repofrompath, lists
# xen-autoload and xen-host, and resolves xen-host's dependency on xen-autoload.
# Usage: tests/packaging/dnf-resolve.sh    (uses $XA_OUT/repo/dnf)
set -euo pipefail
. "$(dirname "$0")/../../ci/lib.sh"

repo=$XA_OUT/repo/dnf
[ -f "$repo/repodata/repomd.xml" ] || { echo "dnf-resolve: $repo: no repodata/repomd.xml" >&2; exit 1; }
version=$("$XA_TOP/ci/check-versions.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only our repository (no system repos, no cache outside $work); unsigned: local use.
dnf_q() {
    dnf -q --installroot="$work/root" --releasever=any --setopt=reposdir="$work/none" \
        --setopt=cachedir="$work/cache" --setopt=xa.gpgcheck=0 \
        --repofrompath="xa,file://$repo" --repo=xa "$@"
}
listed=$(dnf_q list --available 2>&1)
echo "$listed"
for pkg in xen-autoload xen-host; do
    grep -qE "^$pkg\.(noarch|x86_64|aarch64)[[:space:]]+$version-" <<<"$listed" ||
        { echo "dnf-resolve: dnf list does not show $pkg $version" >&2; exit 1; }
done
requires=$(dnf_q repoquery --requires --resolve xen-host 2>&1)
echo "xen-host requires, resolved: $requires"
grep -q "^xen-autoload-0:$version-" <<<"$requires" ||
    { echo "dnf-resolve: xen-host's requirement on xen-autoload does not resolve" >&2; exit 1; }
files=$(dnf_q repoquery -l xen-autoload 2>&1)
grep -qx /usr/sbin/xen-autoload <<<"$files" ||
    { echo "dnf-resolve: repoquery -l xen-autoload lacks /usr/sbin/xen-autoload" >&2; exit 1; }
echo "dnf lists xen-autoload and xen-host $version and resolves xen-host -> xen-autoload"
