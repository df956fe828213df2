#!/bin/bash
# Stage kernel: the single-config Xen kernel (issue 6).
#  1. kernel-config tests that need the real linux-source-6.1 tree and Debian's configs
#     (ctest -L kernel-tree: strict merge, check-kernel on real configs);
#  2. build Debian's linux-source-6.1 with x86_64_defconfig + kvm_guest.config +
#     kernel-config/fragments/*.config as .debs (kernel-config/build-kernel.sh; skipped when
#     every input equals the cached build's; ccache kept in $XA_CACHE/ccache-kernel);
#  3. check-kernel on the config shipped in the built linux-image .deb: dom0 and domU must
#     work; the backends must be modules in the package;
#  4. the same tree as RPMs (make binrpm-pkg), checked for the same layout;
#  5. copy the packages to $XA_OUT/kernel/.
# Produces: $XA_OUT/kernel/linux-image-<release>_<version>_amd64.deb (+ linux-headers,
# linux-libc-dev), kernel-<release with _>-<n>.x86_64.rpm (+ kernel-headers),
# $XA_OUT/kernel/config-<release>, check-kernel.json, logs/.
# Cost: ~25 min cold on 2 cores (empty ccache), ~3 min warm, seconds when cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

stage=kernel
out=$XA_OUT/kernel
logs=$out/logs
cc=$out/cc
status=0
fail() { xa_check "$stage" "$1" fail "${2:-}"; status=1; }

rm -rf "$out"/*.deb "$out"/*.rpm "$logs"
mkdir -p "$out" "$logs"

# 1. The C++ side (check-kernel and its tests) in this stage's own build tree.
if nice -n 10 cmake -S "$XA_TOP" -B "$cc" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DXA_BENCH=OFF -DXA_KERNEL_TREE_TESTS=ON >"$logs/cmake.log" 2>&1 &&
    nice -n 10 ninja -C "$cc" -j2 xen-autoload xa-kconfig-unit-tests xa-kconfig-real-tests \
        >>"$logs/cmake.log" 2>&1; then
    xa_check "$stage" "build xen-autoload and the kconfig tests" pass
else
    tail -n 30 "$logs/cmake.log" >&2
    fail "build xen-autoload and the kconfig tests" "see $logs/cmake.log"
    exit 1
fi
cli=$cc/src/autoload/xen-autoload

start=$(xa_now)
if (cd "$cc" && nice -n 10 ctest -L kconfig --output-on-failure) >"$logs/ctest-kconfig.log" 2>&1; then
    xa_check "$stage" "ctest -L kconfig (strict merge, check-kernel on Debian amd64/cloud, defconfig, merged)" pass \
        "$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$logs/ctest-kconfig.log")"
else
    tail -n 40 "$logs/ctest-kconfig.log" >&2
    fail "ctest -L kconfig (strict merge, check-kernel on Debian amd64/cloud, defconfig, merged)" \
        "see $logs/ctest-kconfig.log"
fi
xa_metric "$stage" kconfig-tests-seconds "$(($(xa_now) - start))" s

# 2. The kernel.
start=$(xa_now)
if "$XA_TOP/kernel-config/build-kernel.sh" --flavour small --rpm >"$logs/build-kernel.log" 2>&1; then
    xa_check "$stage" "build-kernel.sh --flavour small --rpm (strict merge, bindeb-pkg, binrpm-pkg)" \
        pass "$(grep -E 'build-kernel: (built|up to date)' "$logs/build-kernel.log" | tail -n 1)"
else
    tail -n 40 "$logs/build-kernel.log" >&2
    fail "build-kernel.sh --flavour small --rpm (strict merge, bindeb-pkg, binrpm-pkg)" \
        "see $logs/build-kernel.log"
    exit 1
fi
seconds=$(($(xa_now) - start))
xa_metric "$stage" kernel-build-seconds "$seconds" s
kwork=$XA_CACHE/kernel/small
if grep -q 'build-kernel: up to date' "$logs/build-kernel.log"; then
    xa_metric "$stage" kernel-build-cached 1
else
    xa_metric "$stage" kernel-build-cached 0
    cp "$kwork/time.log" "$kwork/build.log" "$logs/" 2>/dev/null || true
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$kwork/time.log")
    [ -z "$rss_kb" ] || xa_metric "$stage" kernel-build-peak-rss-mb "$((rss_kb / 1024))" MB
fi

# 3. What the package really ships.
image=$(compgen -G "$kwork/linux-image-*.deb" | grep -v -- '-dbg_' | head -n 1 || true)
[ -n "$image" ] || { fail "linux-image .deb produced" "none in $kwork"; exit 1; }
xa_metric "$stage" linux-image-deb-kb "$(du -k "$image" | cut -f1)" KiB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$image" "$tmp"
config=$(compgen -G "$tmp/boot/config-*" | head -n 1 || true)
release=${config##*/config-}
if [ -n "$config" ] && [ -f "$tmp/boot/vmlinuz-$release" ] && [ -d "$tmp/lib/modules/$release" ]; then
    xa_check "$stage" "linux-image .deb layout (/boot/config, /boot/vmlinuz, /lib/modules)" pass \
        "${image##*/}: release $release"
    cp "$config" "$out/config-$release"
else
    fail "linux-image .deb layout (/boot/config, /boot/vmlinuz, /lib/modules)" "${image##*/}"
    exit 1
fi
for role in dom0 domU domU-pv domU-pvh domU-hvm native driver-domain; do
    if "$cli" check-kernel --config "$config" --role "$role" >"$logs/check-kernel-$role.txt" 2>&1; then
        xa_check "$stage" "check-kernel --role $role on the built image's config" pass
    else
        fail "check-kernel --role $role on the built image's config" \
            "$(grep -E '^  - ' "$logs/check-kernel-$role.txt" | head -n 3 | tr '\n' ' ')"
    fi
done
"$cli" check-kernel --config "$config" --json >"$out/check-kernel.json" || true
# xen-autoload's whole point: backends are modules it can choose to load.
missing=()
for ko in drivers/net/xen-netback/xen-netback.ko drivers/block/xen-blkback/xen-blkback.ko \
    drivers/xen/xen-evtchn.ko drivers/xen/xen-gntdev.ko drivers/xen/xen-privcmd.ko \
    drivers/xen/xenfs/xenfs.ko drivers/xen/xen-pciback/xen-pciback.ko; do
    [ -f "$tmp/lib/modules/$release/kernel/$ko" ] || missing+=("$ko")
done
if [ ${#missing[@]} -eq 0 ]; then
    xa_check "$stage" "backends shipped as modules in the image" pass
else
    fail "backends shipped as modules in the image" "missing: ${missing[*]}"
fi

# 4. The RPM of the same tree: same files in the same places.
rpm_image=$(compgen -G "$kwork/rpmbuild/RPMS/x86_64/kernel-[0-9]*.rpm" | head -n 1 || true)
if [ -n "$rpm_image" ] && rpm -qlp "$rpm_image" 2>/dev/null >"$logs/rpm-files.txt" &&
    grep -qx "/boot/vmlinuz-$release" "$logs/rpm-files.txt" &&
    grep -qx "/boot/config-$release" "$logs/rpm-files.txt" &&
    grep -q "^/lib/modules/$release/kernel/drivers/net/xen-netback/xen-netback.ko" "$logs/rpm-files.txt"; then
    xa_check "$stage" "kernel .rpm layout (/boot/vmlinuz, /boot/config, /lib/modules)" pass \
        "${rpm_image##*/}"
    xa_metric "$stage" kernel-rpm-kb "$(du -k "$rpm_image" | cut -f1)" KiB
else
    fail "kernel .rpm layout (/boot/vmlinuz, /boot/config, /lib/modules)" "${rpm_image:-no RPM built}"
fi

# 5. Hand the packages to the later stages (boot matrix, packaging).
cp "$kwork"/*.deb "$out/"
cp "$kwork"/rpmbuild/RPMS/x86_64/*.rpm "$out/" 2>/dev/null || true
xa_check "$stage" "kernel packages in out/kernel" pass "$(cd "$out" && echo ./*.deb ./*.rpm)"
exit $status
