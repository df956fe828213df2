#!/bin/bash
# Build the single-config Xen kernel by hand, outside any package: the same steps as the
# packages (kernel-config/kbuild.sh), installed into a directory instead of a .deb/.rpm.
# The packages are built by the package builds themselves:
#   dpkg-buildpackage -b -Ppkg.xen-autoload.kernel   -> linux-image-xen-autoload_*.deb
#   rpmbuild --with kernel -bb rpm/xen-autoload.spec -> kernel-xen-autoload-*.rpm
# (ci/stage-kernel.sh runs both). This script is for the debian flavour, which no CI
# stage builds, and for quick config work.
#
# Usage: kernel-config/build-kernel.sh [--flavour small|debian] [--config-only]
#
#   small   x86_64_defconfig + kernel/configs/kvm_guest.config + fragments/*.config +
#           small-base/*.config
#           (what the packages and CI build)
#   debian  Debian's own amd64 config (linux-config-6.1) + fragments/*.config +
#           debian-base/*.config; hours on 2 cores: a manual target, not run in CI.
#   --config-only  stop after the strict merge and print the merged config's path
#                  (used by the kconfig tests).
#
# Layout (under $XA_CACHE/kernel, default /var/cache/xen-autoload-ci/kernel; kept between
# runs, so a second build only recompiles what a changed config needs):
#   linux-source-6.1/              the unpacked source (unpack-source.sh)
#   linux-source-6.1/obj-FLAVOUR/  the objtree
#   merge-FLAVOUR/.config          the strict merge result
#   root-FLAVOUR/                  the installed kernel: boot/ and lib/modules/
#   FLAVOUR-time.log               /usr/bin/time -v of the last build
#
# Environment: JOBS (default 2), NICE (default 19), XA_CACHE. ccache: put /usr/lib/ccache
# first in PATH (as CI does); the build does not require it.
# Exit: 0 built; 1 the strict merge found requests that did not hold or the build failed;
# 2 usage error or missing input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
JOBS=${JOBS:-2}
NICE=${NICE:-19}
flavour=small
config_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --flavour) flavour=${2:-}; shift 2 ;;
        --config-only) config_only=1; shift ;;
        *) echo "build-kernel: unknown argument: '$1'" >&2; exit 2 ;;
    esac
done
case $flavour in small | debian) ;; *) echo "build-kernel: --flavour: unknown value: '$flavour'" >&2; exit 2 ;; esac

work=$XA_CACHE/kernel
kbuild=(nice -n "$NICE" "$here/kbuild.sh" --workdir "$work" --flavour "$flavour" --jobs "$JOBS")
if [ "$config_only" = 1 ]; then
    "${kbuild[@]}" config
    exit 0
fi
start=$(date +%s)
/usr/bin/time -v -o "$work/$flavour-time.log" "${kbuild[@]}" build >&2 || exit 1
rm -rf "$work/root-$flavour"
"${kbuild[@]}" install "$work/root-$flavour"
echo "build-kernel: $("${kbuild[@]}" release) built in $(($(date +%s) - start)) s, installed in $work/root-$flavour" >&2
