#!/bin/bash
# Build the single-config Xen kernel from Debian's linux-source-6.1 as .debs (bindeb-pkg).
#
# Usage: kernel-config/build-kernel.sh [--flavour small|debian] [--config-only] [--rpm]
#
#   small   x86_64_defconfig + kernel/configs/kvm_guest.config + fragments/*.config
#           (what CI builds: about 25 min cold on 2 cores, 3 min with a warm ccache)
#   debian  Debian's own amd64 config (linux-config-6.1) + fragments/*.config +
#           debian-base/*.config; hours on 2 cores: a manual target, not run in CI.
#   --config-only  stop after the strict merge (prints the merged config's path).
#   --rpm          also `make binrpm-pkg` from the same objtree (minutes: it packages the
#                  already built tree); RPMs in kernel/FLAVOUR/rpmbuild/RPMS/x86_64/.
#
# Layout (under $XA_CACHE, default /var/cache/xen-autoload-ci; kept between runs):
#   kernel/linux-source-6.1/          pristine unpacked source (stamp: .xa-source-version)
#   kernel/FLAVOUR/merge/.config      strict merge result of this run (config-only objtree)
#   kernel/FLAVOUR/build/             the objtree bindeb-pkg builds in
#   kernel/FLAVOUR/*.deb              the packages; kernel/FLAVOUR/inputs.sha256 names what
#                                     they were built from (a rebuild is skipped when equal)
#   kernel/FLAVOUR/rpmbuild/RPMS/     with --rpm (rpm-inputs.sha256 likewise)
#   kernel/FLAVOUR/{build,time,rpm}.log  make output and /usr/bin/time -v of the last build
#   ccache-kernel/                    the compiler cache
#   debs/                             .debs fetched with apt-get download (linux-config-6.1)
#
# Environment: JOBS (default 2), NICE (default 19), XA_CACHE.
# Exit: 0 built (or up to date), 1 strict merge found requests that did not hold or the
# build failed, 2 usage error or missing input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
XA_CACHE=${XA_CACHE:-/var/cache/xen-autoload-ci}
JOBS=${JOBS:-2}
NICE=${NICE:-19}
flavour=small
config_only=0
with_rpm=0
while [ $# -gt 0 ]; do
    case $1 in
        --flavour) flavour=${2:-}; shift 2 ;;
        --config-only) config_only=1; shift ;;
        --rpm) with_rpm=1; shift ;;
        *) echo "build-kernel: unknown argument: '$1'" >&2; exit 2 ;;
    esac
done
case $flavour in small | debian) ;; *) echo "build-kernel: --flavour: unknown value: '$flavour'" >&2; exit 2 ;; esac

say() { printf '[%s] build-kernel: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

src_tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tarball" ] || { echo "build-kernel: $src_tarball: missing (install linux-source-6.1: ci/install-deps.sh kernel)" >&2; exit 2; }
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# 1. The source tree, unpacked once per linux-source-6.1 version.
srctree=$("$here/unpack-source.sh")

# 2. The strict merge, in a config-only objtree so a finished build is not disturbed.
work=$XA_CACHE/kernel/$flavour
mkdir -p "$work"
base_args=(--base-target x86_64_defconfig --base-target kvm_guest.config)
fragments=("$here"/fragments/*.config)
if [ "$flavour" = debian ]; then
    base_config=$("$here/fetch-debian-config.sh" amd64)
    base_args=(--base-config "$base_config")
    fragments+=("$here"/debian-base/*.config)
fi
rm -rf "$work/merge"
nice -n "$NICE" "$here/merge-strict.py" --srctree "$srctree" --objtree "$work/merge" \
    "${base_args[@]}" "${fragments[@]}" || exit 1
if [ "$config_only" = 1 ]; then
    echo "$work/merge/.config"
    exit 0
fi

# 3. Skip the build only when every input is identical to the cached build's.
# KDEB_PKGVERSION: the Debian version of linux-source-6.1 plus our suffix, so the
# package sorts after nothing of Debian's own and names its source.
pkgversion="${src_version}+xenautoload1"
build_timestamp=$(date -u -d "@$(stat -c %Y "$src_tarball")" '+%Y-%m-%d')
common_args=(-C "$srctree" "O=$work/build" ARCH=x86_64 "-j$JOBS" "CC=ccache gcc"
             "KBUILD_BUILD_TIMESTAMP=$build_timestamp" KBUILD_BUILD_USER=xen-autoload
             KBUILD_BUILD_HOST=ci)
make_args=("${common_args[@]}" "KDEB_PKGVERSION=$pkgversion" bindeb-pkg)
inputs=$( { echo "$src_version"; printf '%s\n' "${make_args[@]}"; cat "$work/merge/.config";
            cat "$0"; } | sha256sum | cut -d' ' -f1)
export CCACHE_DIR=$XA_CACHE/ccache-kernel
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
mkdir -p "$CCACHE_DIR"

# binrpm-pkg packages the objtree bindeb-pkg built (its first step, a plain make, finds
# nothing to do). The RPM's Release is kbuild's build counter (.version).
build_rpm() {
    [ "$with_rpm" = 1 ] || return 0
    if [ -f "$work/rpm-inputs.sha256" ] && [ "$(cat "$work/rpm-inputs.sha256")" = "$inputs" ] &&
        compgen -G "$work/rpmbuild/RPMS/*/kernel-*.rpm" >/dev/null; then
        say "rpm up to date: $(cd "$work/rpmbuild/RPMS" && echo */kernel-*.rpm)"
        return 0
    fi
    rm -rf "$work/rpmbuild" "$work/rpm-inputs.sha256"
    say "make binrpm-pkg (log $work/rpm.log)"
    if ! nice -n "$NICE" make "${common_args[@]}" "RPMOPTS=--define '_topdir $work/rpmbuild'" \
        binrpm-pkg >"$work/rpm.log" 2>&1; then
        tail -n 30 "$work/rpm.log" >&2
        say "binrpm-pkg FAILED (log $work/rpm.log)"
        return 1
    fi
    echo "$inputs" >"$work/rpm-inputs.sha256"
    say "rpm: $(cd "$work/rpmbuild/RPMS" && echo */*.rpm)"
}

if [ -f "$work/inputs.sha256" ] && [ "$(cat "$work/inputs.sha256")" = "$inputs" ] &&
    compgen -G "$work/linux-image-*.deb" >/dev/null; then
    say "up to date (inputs $inputs): $(cd "$work" && echo linux-image-*.deb)"
    build_rpm || exit 1
    exit 0
fi

# Only replace the objtree's .config when it changed: kbuild then rebuilds only what
# depends on the changed symbols (and ccache serves the rest).
mkdir -p "$work/build"
if ! cmp -s "$work/merge/.config" "$work/build/.config"; then
    cp "$work/merge/.config" "$work/build/.config"
fi
rm -f "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$work/inputs.sha256"
ccache -z >/dev/null
say "make ${make_args[*]} (nice $NICE, log $work/build.log)"
start=$(date +%s)
if ! nice -n "$NICE" /usr/bin/time -v -o "$work/time.log" make "${make_args[@]}" >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    say "FAILED after $(( $(date +%s) - start )) s (log $work/build.log)"
    exit 1
fi
ccache -s >"$work/ccache.log" 2>&1 || true
# bindeb-pkg leaves its packages next to the objtree.
echo "$inputs" >"$work/inputs.sha256"
say "built in $(( $(date +%s) - start )) s: $(cd "$work" && echo ./*.deb)"
grep -E 'Elapsed|Maximum resident' "$work/time.log" >&2 || true
build_rpm || exit 1
