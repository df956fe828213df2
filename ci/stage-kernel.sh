#!/bin/bash
# Stage kernel: the single-config Xen kernel (issue 6), packaged by our own source package.
#  1. from a clean copy of the tree (git ls-files, as stage packages makes it):
#     dpkg-buildpackage -b -us -uc -Ppkg.xen-autoload.kernel,nocheck and
#     rpmbuild --with kernel --without check -bb (both run kernel-config/kbuild.sh:
#     x86_64_defconfig + kvm_guest.config + kernel-config/fragments/*.config, strict merge).
#     Skipped when the hash of every input equals the cached build's
#     ($XA_CACHE/kernel/pkg/inputs.sha256); ccache in $XA_CACHE/ccache-kernel, hits across
#     source copies in different directories (CCACHE_BASEDIR, CCACHE_NOHASHDIR; kbuild.sh
#     explains the layout). The .deb is handed over as soon as it exists (below);
#  2. the build profile: dh_listpackages lists linux-image-xen-autoload only with
#     pkg.xen-autoload.kernel, so the everyday dpkg-buildpackage -b skips the kernel;
#  3. kernel-config tests that need the real linux-source-6.1 tree and Debian's configs
#     (ctest -L kconfig: strict merge, check-kernel on real configs);
#  4. checks on the packages: .deb layout, maintainer scripts, check-kernel per role on the
#     shipped config, backends shipped as modules, lintian; .rpm layout and scriptlets,
#     rpmlint; apt install + purge in a throwaway root (tests/packaging/kernel-deb-install.sh);
#  5. copy the two kernel packages to $XA_OUT/kernel/ and publish the repositories again
#     (ci/publish-repos.sh adds $XA_OUT/kernel's packages).
# The hand-over: the image stage needs only the .deb. It is copied to $XA_OUT/kernel/ and
# $XA_OUT/kernel-deb.ready is made as soon as it is built (or found in the cache), before
# the .rpm and the checks: ci/pipeline.sh starts stage image from there while this stage,
# in the background, builds the .rpm and checks both, and joins it before stage boot. A
# .deb that fails its checks still fails the run.
# Produces: $XA_OUT/kernel/linux-image-xen-autoload_<version>_amd64.deb,
# kernel-xen-autoload-<version>.x86_64.rpm, config-<release>, check-kernel.json, logs/.
# Cost: ~25-60 min with an empty ccache on 2 shared cores, a few minutes with a warm one,
# about 1.5 minutes when every input is unchanged (the checks and the install test still run).
# Usage: ci/stage-kernel.sh [--phase build|publish]   (default: both, in order)
#   build    steps 1-4: needs nothing from the other stages, so ci/pipeline.sh runs it in
#            the background beside stages build and packages
#   publish  step 5: needs stage packages' out/debs and out/rpms
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

stage=kernel
out=$XA_OUT/kernel
logs=$out/logs
# The C++ build tree sits as deep below $XA_OUT as ci/run-tests.sh's (out/build): ccache
# makes the paths relative to the build directory, so only trees at the same depth share.
cc=$XA_OUT/kernel-cc
work=$XA_OUT/kernel-pkg
pkgcache=$XA_CACHE/kernel/pkg
tarball=/usr/src/linux-source-6.1.tar.xz
status=0
fail() { xa_check "$stage" "$1" fail "${2:-}"; status=1; }
phase=all
case "${1:-}:${2:-}:$#" in
    ::0) ;;
    --phase:build:2 | --phase:publish:2) phase=$2 ;;
    *) xa_die "usage: ci/stage-kernel.sh [--phase build|publish]" ;;
esac

# 5. Hand the packages to the later stages (image, boot) through out/kernel and the
# repositories. Only these two: no headers, no libc-dev. Run twice by ci/pipeline.sh (with the .deb at the hand-over, with both at the end): the
# check names which packages it published.
publish() {
    local what='.deb' name
    ! compgen -G "$out/kernel-xen-autoload-*.rpm" >/dev/null || what='.deb and .rpm'
    name="apt and dnf repositories published with the kernel packages ($what)"
    if "$here/publish-repos.sh" >"$logs/publish-repos.log" 2>&1; then
        xa_check "$stage" "$name" pass "$XA_OUT/repo"
    else
        tail -n 20 "$logs/publish-repos.log" >&2
        fail "$name" "see $logs/publish-repos.log"
    fi
}
if [ "$phase" = publish ]; then
    compgen -G "$out/linux-image-xen-autoload_*.deb" >/dev/null ||
        xa_die "stage kernel: no kernel package in $out (run --phase build first)"
    publish
    exit $status
fi

rm -rf "$out"/*.deb "$out"/*.rpm "$logs" "$XA_KERNEL_DEB_READY"
mkdir -p "$out" "$logs"

# hand_over [DEB]: the .deb into out/kernel (whole: copied beside, then renamed), then the
# mark the pipeline waits for. No .deb (a failed build): nothing; the checks below fail.
hand_over() {
    [ -n "${1:-}" ] || return 0
    if cp "$1" "$out/.${1##*/}.tmp" && mv "$out/.${1##*/}.tmp" "$out/${1##*/}" && touch "$XA_KERNEL_DEB_READY"; then
        xa_say "stage kernel: ${1##*/} handed over to the later stages; the .rpm and the checks go on"
    fi
}

# 1. The packages. A clean copy: what git would commit (tracked + untracked, not ignored).
if ! version=$("$here/check-versions.sh" 2>"$logs/check-versions.log"); then
    fail "versions agree (CMake, debian/changelog, spec)" "$(head -n 3 "$logs/check-versions.log" | tr '\n' ' ')"
    exit 1
fi
rm -rf "$work"
src=$work/src/xen-autoload-$version
mkdir -p "$work/rpmbuild/SOURCES"
xa_source_copy "$src"

# Every input of the two kernel packages: the kernel source, the compiler, the packaging
# they are made from, the kernel configuration and this script. Equal hash and cached
# packages: no rebuild. Left out, as they cannot change the kernel packages: the other
# binary packages' own files (debian/xen-autoload.*, xen-autoload-dracut.*, xen-host.*),
# debian/tests, Salsa's CI file and the RPM notes and lint settings; the engine's sources
# were never in it (the kernel packages hold no file of the engine). A change to the
# everyday packages' files no longer costs a kernel build.
[ -f "$tarball" ] || { fail "kernel source" "$tarball: missing (ci/install-deps.sh kernel)"; exit 1; }
inputs=$( {
    dpkg-query -W -f='linux-source-6.1 ${Version}\n' linux-source-6.1
    gcc --version | head -n 1
    (cd "$src" && find debian rpm kernel-config \( -path debian/tests -o -path debian/salsa-ci.yml \
        -o -path 'debian/xen-autoload.*' -o -path 'debian/xen-autoload-dracut.*' \
        -o -path 'debian/xen-host.*' -o -path rpm/README.md -o -path rpm/rpmlint.toml \) -prune \
        -o -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum <"$0"
} | sha256sum | cut -d' ' -f1)
# $pkgcache is shared by concurrent runs: the lock kernel-pkg is held from this check to
# the private copies below, so a second run waits (a cold build takes up to an hour) and
# then reuses the packages; a new build goes to a directory beside it, swapped in whole.
xa_lock kernel-pkg 7200 || { fail "kernel package cache" "lock kernel-pkg not acquired"; exit 1; }
cached_deb=$(compgen -G "$pkgcache/linux-image-xen-autoload_*_amd64.deb" | head -n 1 || true)
cached_rpm=$(compgen -G "$pkgcache/kernel-xen-autoload-*.x86_64.rpm" | head -n 1 || true)
if [ -n "$cached_deb" ] && [ -n "$cached_rpm" ] && [ -f "$pkgcache/inputs.sha256" ] &&
    [ "$(cat "$pkgcache/inputs.sha256")" = "$inputs" ]; then
    xa_check "$stage" "kernel packages up to date (inputs unchanged, not rebuilt)" pass \
        "inputs $inputs: ${cached_deb##*/} ${cached_rpm##*/}"
    xa_metric "$stage" kernel-build-cached 1
    hand_over "$cached_deb"
else
    xa_metric "$stage" kernel-build-cached 0
    pkgfinal=$pkgcache
    mkdir -p "${pkgfinal%/*}"
    rm -rf "$pkgfinal".tmp.*  # a killed run's (we hold the lock)
    pkgcache=$(mktemp -d "$pkgfinal.tmp.XXXXXX") && chmod 755 "$pkgcache"
    # The compiler cache: the kernel's own directory, so that the C++ builds' cache and
    # the kernel's do not evict each other. Paths below the build directory are made
    # relative (BASEDIR) and the working directory is not hashed (NOHASHDIR), so a copy
    # in another directory hits the cache.
    # Depend mode: a miss runs the compiler once and takes the manifest from its dependency
    # file (kbuild's -Wp,-MMD), instead of first running the preprocessor to hash its output:
    # a miss costs about a quarter less (docs/measurements.md, 2026-12-07). Hits are
    # direct-mode hits as before; the kernel's were all direct.
    export CCACHE_DIR=$XA_CACHE/ccache-kernel CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G} CCACHE_NOHASHDIR=true \
        CCACHE_DEPEND=true
    [ ! -d /usr/lib/ccache ] || export PATH=/usr/lib/ccache:$PATH
    mkdir -p "$CCACHE_DIR"
    ccache_hit_rate() { # after a build: "hits/calls" of the compiler calls ccache saw
        ccache --print-stats 2>/dev/null | awk -F'\t' '
            $1=="direct_cache_hit"||$1=="preprocessed_cache_hit"{h+=$2}
            $1=="cache_miss"{m+=$2} END{printf "%d %d\n", h, h+m}'
    }
    # build_package KIND NAME GLOB LOG CMD...: run CMD with ccache's counters reset, then
    # keep the package matching GLOB in $pkgcache and record time and ccache hits as
    # kernel-KIND-*. Returns 2 when CMD failed, 1 when it made no such package.
    build_package() {
        local kind=$1 name=$2 glob=$3 log=$4 start hits calls pkg
        shift 4
        start=$(xa_now)
        ccache -z >/dev/null
        if ! "$@" >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            fail "$name" "see $log"
            return 2
        fi
        read -r hits calls < <(ccache_hit_rate)
        xa_metric "$stage" "kernel-$kind-build-seconds" "$(($(xa_now) - start))" s
        xa_metric "$stage" "kernel-$kind-ccache-hits" "$hits"
        xa_metric "$stage" "kernel-$kind-ccache-calls" "$calls"
        pkg=$(compgen -G "$glob" | head -n 1 || true)
        if [ -z "$pkg" ]; then
            fail "$name" "no package matching $glob"
            return 1
        fi
        cp "$pkg" "$pkgcache/"
        xa_check "$stage" "$name" pass "${pkg##*/} in $(($(xa_now) - start)) s, ccache hits $hits of $calls"
    }
    # The RPM's source tarball is made before the Debian build writes into the copy; the
    # kernel tarball keeps its date (cp -p): kbuild.sh dates the build from it.
    tar -C "$work/src" --owner=0 --group=0 --sort=name -czf \
        "$work/rpmbuild/SOURCES/xen-autoload-$version.tar.gz" "xen-autoload-$version"
    cp -p "$tarball" "$work/rpmbuild/SOURCES/"

    # A failed Debian build ends the stage (nothing to check); a missing .deb is caught below.
    build_package deb "dpkg-buildpackage -b -Ppkg.xen-autoload.kernel,nocheck" \
        "$work/src/linux-image-xen-autoload_*_amd64.deb" "$logs/dpkg-buildpackage.log" \
        env -C "$src" CCACHE_BASEDIR="$src" DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 \
        /usr/bin/time -v -o "$logs/deb-time.log" \
        dpkg-buildpackage -b -us -uc -Ppkg.xen-autoload.kernel,nocheck || { [ $? -ne 2 ] || exit 1; }
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$logs/deb-time.log")
    [ -z "$rss_kb" ] || xa_metric "$stage" kernel-build-peak-rss-mb "$((rss_kb / 1024))" MB
    hand_over "$(compgen -G "$pkgcache/linux-image-xen-autoload_*_amd64.deb" | head -n 1 || true)"

    # --nodeps: the BuildRequires name Fedora packages (rpm/README.md); --without check as
    # the .deb's nocheck (no test programs built, no %check): the engine's tests run in
    # stage packages.
    build_package rpm "rpmbuild --with kernel -bb" \
        "$work/rpmbuild/RPMS/x86_64/kernel-xen-autoload-*.x86_64.rpm" "$logs/rpmbuild.log" \
        env CCACHE_BASEDIR="$work/rpmbuild/BUILD" nice -n 10 rpmbuild --load "$XA_TOP/rpm/macros.debian-host" \
        --define "_topdir $work/rpmbuild" --define "_smp_mflags -j2" --with kernel --without check --nodeps \
        -bb "$src/rpm/xen-autoload.spec" || true
    ccache -s >"$logs/ccache.log" 2>&1 || true
    # Remembered only when both packages were built: a half build is rebuilt next time.
    cached_deb=$(compgen -G "$pkgcache/linux-image-xen-autoload_*_amd64.deb" | head -n 1 || true)
    cached_rpm=$(compgen -G "$pkgcache/kernel-xen-autoload-*.x86_64.rpm" | head -n 1 || true)
    if [ -n "$cached_deb" ] && [ -n "$cached_rpm" ]; then
        echo "$inputs" >"$pkgcache/inputs.sha256"
        xa_publish "$pkgcache" "$pkgfinal"
        pkgcache=$pkgfinal
        cached_deb=$(compgen -G "$pkgcache/linux-image-xen-autoload_*_amd64.deb" | head -n 1 || true)
        cached_rpm=$(compgen -G "$pkgcache/kernel-xen-autoload-*.x86_64.rpm" | head -n 1 || true)
    fi
    # The source copy with its kernel trees is about 2.5 GB: only the logs are kept.
    rm -rf "$work/src" "$work/rpmbuild"
fi
# This run's own copies: the lock is released, another run may replace $pkgcache.
mkdir -p "$work/cached"
for f in "$cached_deb" "$cached_rpm"; do [ -z "$f" ] || cp "$f" "$work/cached/"; done
[ -z "$cached_deb" ] || cached_deb=$work/cached/${cached_deb##*/}
[ -z "$cached_rpm" ] || cached_rpm=$work/cached/${cached_rpm##*/}
[ "$pkgcache" = "${pkgfinal:-$pkgcache}" ] || rm -rf "$pkgcache"  # a half build: not kept
xa_unlock kernel-pkg
[ -n "$cached_deb" ] || { fail "linux-image-xen-autoload .deb produced" "none in $pkgcache"; exit 1; }

# 2. The everyday build must not build the kernel; the profile must.
everyday=$(cd "$XA_TOP" && DEB_BUILD_PROFILES='' dh_listpackages 2>&1 | tr '\n' ' ')
profiled=$(cd "$XA_TOP" && DEB_BUILD_PROFILES=pkg.xen-autoload.kernel dh_listpackages 2>&1 | tr '\n' ' ')
if [[ " $everyday" != *" linux-image-xen-autoload "* ]] && [[ " $profiled" == *" linux-image-xen-autoload "* ]]; then
    xa_check "$stage" "linux-image-xen-autoload only with the build profile pkg.xen-autoload.kernel" pass \
        "without: $everyday; with: $profiled"
else
    fail "linux-image-xen-autoload only with the build profile pkg.xen-autoload.kernel" \
        "without: $everyday; with: $profiled"
fi

# 3. The C++ side (check-kernel and its tests) in this stage's own build tree, configured
# as ci/run-tests.sh configures the test build (plus the kernel-tree tests): the two
# builds share their objects through ccache, so only the first of them compiles.
if nice -n 10 cmake -S "$XA_TOP" -B "$cc" -G Ninja \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DXA_WERROR=ON -DXA_KERNEL_TREE_TESTS=ON >"$logs/cmake.log" 2>&1 &&
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

# 4a. What the .deb really ships.
deb=$cached_deb
xa_metric "$stage" linux-image-deb-kb "$(du -k "$deb" | cut -f1)" KiB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -R "$deb" "$tmp/deb"
config=$(compgen -G "$tmp/deb/boot/config-*" | head -n 1 || true)
release=${config##*/config-}
if [ -n "$config" ] && [ -f "$tmp/deb/boot/vmlinuz-$release" ] && [ -f "$tmp/deb/boot/System.map-$release" ] &&
    [ -d "$tmp/deb/lib/modules/$release/kernel" ] && [ ! -e "$tmp/deb/lib/modules/$release/build" ] &&
    [ ! -e "$tmp/deb/lib/modules/$release/source" ]; then
    xa_check "$stage" "linux-image .deb layout (/boot/vmlinuz, config, System.map; /lib/modules, no build/source links)" \
        pass "${deb##*/}: release $release"
    cp "$config" "$out/config-$release"
else
    fail "linux-image .deb layout (/boot/vmlinuz, config, System.map; /lib/modules, no build/source links)" \
        "${deb##*/}: $(cd "$tmp/deb" && find boot lib/modules -maxdepth 2 | tr '\n' ' ')"
    exit 1
fi
# The release is substituted into every maintainer script and each runs the kernel hooks.
script_problems=()
for s in preinst postinst prerm postrm; do
    f=$tmp/deb/DEBIAN/$s
    if [ ! -f "$f" ]; then script_problems+=("$s missing"); continue; fi
    grep -q "^version=$release\$" "$f" || script_problems+=("$s: no version=$release")
    grep -q "/etc/kernel/$s.d" "$f" || script_problems+=("$s: does not run /etc/kernel/$s.d")
    ! grep -q '#KERNEL_RELEASE#' "$f" || script_problems+=("$s: #KERNEL_RELEASE# not substituted")
done
if [ ${#script_problems[@]} -eq 0 ]; then
    xa_check "$stage" "maintainer scripts: release $release, /etc/kernel/{preinst,postinst,prerm,postrm}.d" pass
else
    fail "maintainer scripts: release $release, /etc/kernel/{preinst,postinst,prerm,postrm}.d" "${script_problems[*]}"
fi
for role in dom0 domU domU-pv domU-pvh domU-hvm native driver-domain; do
    if "$cli" check-kernel --config "$config" --role "$role" >"$logs/check-kernel-$role.txt" 2>&1; then
        xa_check "$stage" "check-kernel --role $role on the config in the .deb" pass
    else
        fail "check-kernel --role $role on the config in the .deb" \
            "$(grep -E '^  - ' "$logs/check-kernel-$role.txt" | head -n 3 | tr '\n' ' ')"
    fi
done
"$cli" check-kernel --config "$config" --json >"$out/check-kernel.json" || true
# xen-autoload's whole point: backends are modules it can choose to load.
backends=(drivers/net/xen-netback/xen-netback.ko drivers/block/xen-blkback/xen-blkback.ko
    drivers/xen/xen-evtchn.ko drivers/xen/xen-gntdev.ko drivers/xen/xen-privcmd.ko
    drivers/xen/xenfs/xenfs.ko drivers/xen/xen-pciback/xen-pciback.ko)
missing=()
for ko in "${backends[@]}"; do
    [ -f "$tmp/deb/lib/modules/$release/kernel/$ko" ] || missing+=("$ko")
done
if [ ${#missing[@]} -eq 0 ]; then
    xa_check "$stage" "backends shipped as modules in the .deb" pass "${#backends[@]} modules"
else
    fail "backends shipped as modules in the .deb" "missing: ${missing[*]}"
fi

# lintian: no error, no warning.
start=$(xa_now)
xa_lintian "$stage" "lintian linux-image-xen-autoload: 0 errors, 0 warnings" "$logs/lintian.log" "$deb" ||
    status=1
xa_metric "$stage" lintian-seconds "$(($(xa_now) - start))" s

# 4b. The .rpm: the same files, Fedora's /lib/modules/REL/vmlinuz, and kernel-install.
rpm_image=$cached_rpm
if [ -n "$rpm_image" ]; then
    xa_metric "$stage" kernel-rpm-kb "$(du -k "$rpm_image" | cut -f1)" KiB
    rpm -qlp "$rpm_image" >"$logs/rpm-files.txt" 2>&1 || true
    rpm -qp --scripts "$rpm_image" >"$logs/rpm-scripts.txt" 2>&1 || true
    rpm_missing=()
    for f in "/boot/vmlinuz-$release" "/boot/config-$release" "/boot/System.map-$release" \
        "/lib/modules/$release/vmlinuz" "/lib/modules/$release/kernel/drivers/net/xen-netback/xen-netback.ko"; do
        grep -qx "$f" "$logs/rpm-files.txt" || rpm_missing+=("$f")
    done
    grep -q "kernel-install add $release /lib/modules/$release/vmlinuz" "$logs/rpm-scripts.txt" ||
        rpm_missing+=("posttrans: kernel-install add $release")
    grep -q "kernel-install remove $release" "$logs/rpm-scripts.txt" ||
        rpm_missing+=("postun: kernel-install remove $release")
    if [ ${#rpm_missing[@]} -eq 0 ]; then
        xa_check "$stage" "kernel .rpm layout and kernel-install scriptlets" pass "${rpm_image##*/}"
    else
        fail "kernel .rpm layout and kernel-install scriptlets" "${rpm_image##*/}: missing ${rpm_missing[*]}"
    fi
    xa_rpmlint "$stage" "rpmlint kernel-xen-autoload: 0 errors" "$logs/rpmlint.log" "$rpm_image" ||
        status=1
else
    fail "kernel .rpm layout and kernel-install scriptlets" "no kernel-xen-autoload .rpm in $pkgcache"
fi

# 4c. apt install + purge in a throwaway root: the hooks make and remove the initramfs.
start=$(xa_now)
if "$XA_TOP/tests/packaging/kernel-deb-install.sh" "$deb" >"$logs/kernel-deb-install.log" 2>&1; then
    xa_check "$stage" "apt install + purge of the kernel .deb (initramfs by the kernel hooks)" pass \
        "$(tail -n 1 "$logs/kernel-deb-install.log")"
else
    tail -n 30 "$logs/kernel-deb-install.log" >&2
    fail "apt install + purge of the kernel .deb (initramfs by the kernel hooks)" "see $logs/kernel-deb-install.log"
fi
xa_metric "$stage" kernel-deb-install-seconds "$(($(xa_now) - start))" s

# The .deb is there since the hand-over (and may be read now): not copied again.
cmp -s "$deb" "$out/${deb##*/}" || cp "$deb" "$out/"
[ -z "$rpm_image" ] || cp "$rpm_image" "$out/"
xa_check "$stage" "kernel packages in out/kernel" pass "$(cd "$out" && echo ./*.deb ./*.rpm)"
[ "$phase" = build ] || publish
exit $status
