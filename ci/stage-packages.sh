#!/bin/bash
# Stage packages: build the Debian and RPM packages from a clean copy of the tree, lint
# them, publish the apt and dnf repositories and test installing from them.
# Produces, in $XA_OUT:
#   debs/            *.deb, .changes, .buildinfo (dpkg-buildpackage -us -uc -b)
#   rpms/            *.rpm and the .src.rpm (rpmbuild -ba)
#   repo/apt/        flat apt repository, signed; public key repo/apt/xen-autoload-archive.gpg
#   repo/dnf/        dnf repository (createrepo_c)
#   pkg/             the source copy, the RPM source tarball and every log (pkg/logs/)
# Environment: XA_PKG_SKIP_SLOW=1 skips piuparts and autopkgtest (development only: the
# checks are then recorded as skip, never as pass).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

stage=packages
tests=$XA_TOP/tests/packaging
work=$XA_OUT/pkg
logs=$work/logs
status=0
fail() { xa_check "$stage" "$1" fail "${2:-}"; status=1; }

# ccache's compiler links: a rerun on the same machine recompiles only what changed
# (CCACHE_DIR comes from lib.sh; the package builds do not know about ccache).
[ ! -d /usr/lib/ccache ] || export PATH=/usr/lib/ccache:$PATH
# The packages as a buildd makes them: ccache's BASEDIR (ci/lib.sh) would hand the compiler
# relative paths, so the debug info and the build-id would differ from an uncached build
# (the reproducibility check below compares with one).
unset CCACHE_BASEDIR CCACHE_NOHASHDIR

rm -rf "$work" "$XA_OUT/debs" "$XA_OUT/rpms"
mkdir -p "$logs" "$XA_OUT/debs" "$XA_OUT/rpms"

# 1. One version everywhere.
if version=$("$here/check-versions.sh" 2>"$logs/check-versions.log"); then
    xa_check "$stage" "versions agree (CMake, debian/changelog, spec)" pass "$version"
else
    xa_check "$stage" "versions agree (CMake, debian/changelog, spec)" fail \
        "$(head -n 3 "$logs/check-versions.log" | tr '\n' ' ')"
    exit 1
fi

if "$tests/check-versions-test.sh" >"$logs/check-versions-test.log" 2>&1; then
    xa_check "$stage" "check-versions rejects mismatched versions" pass
else
    fail "check-versions rejects mismatched versions" "see $logs/check-versions-test.log"
fi

# 2. A clean source tree: what git would commit (tracked + untracked, not ignored), so a
# stale build directory or out/ never leaks into a package.
src=$work/src/xen-autoload-$version
xa_source_copy "$src"
# The RPM source tarball is made before the Debian build writes into the copy.
mkdir -p "$work/rpmbuild/SOURCES"
tar -C "$work/src" --owner=0 --group=0 --sort=name -czf \
    "$work/rpmbuild/SOURCES/xen-autoload-$version.tar.gz" "xen-autoload-$version"
xa_check "$stage" "source tarball" pass "xen-autoload-$version.tar.gz, $(du -k \
    "$work/rpmbuild/SOURCES/xen-autoload-$version.tar.gz" | cut -f1) KiB"

# 3. Debian: dpkg-buildpackage from the clean copy; tests run in dh_auto_test (ctest).
start=$(xa_now)
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=2" nice -n 10 dpkg-buildpackage -us -uc -b) \
    >"$logs/dpkg-buildpackage.log" 2>&1; then
    mv "$work"/src/*.deb "$work"/src/*.changes "$work"/src/*.buildinfo "$XA_OUT/debs/"
    xa_check "$stage" "dpkg-buildpackage -us -uc -b" pass \
        "$(find "$XA_OUT/debs" -name '*.deb' -printf '%f ')"
else
    tail -n 40 "$logs/dpkg-buildpackage.log" >&2
    fail "dpkg-buildpackage -us -uc -b" "see $logs/dpkg-buildpackage.log"
fi
xa_metric "$stage" deb-build-seconds "$(($(xa_now) - start))" s
# The hermetic test run inside dh_auto_test (tests/packaging/ctest-hermetic.sh).
ctest_line=$(grep -E 'tests passed, [0-9]+ tests? failed' "$logs/dpkg-buildpackage.log" | tail -n 1 || true)
excluded_line=$(grep -E '^ctest-hermetic: excluding' "$logs/dpkg-buildpackage.log" | tail -n 1 || true)
if [ -n "$ctest_line" ] && grep -q '^100% tests passed' <<<"$ctest_line"; then
    xa_check "$stage" "ctest during the Debian build (no network, no root)" pass "$ctest_line; ${excluded_line#ctest-hermetic: }"
else
    fail "ctest during the Debian build (no network, no root)" "${ctest_line:-no CTest summary}; see $logs/dpkg-buildpackage.log"
fi

changes=$(find "$XA_OUT/debs" -name '*.changes' | head -n 1)
if [ -n "$changes" ]; then
    # 4. lintian: no error, no warning.
    xa_lintian "$stage" "lintian: 0 errors, 0 warnings" "$logs/lintian.log" "$changes" || status=1
    # 4b. blhc (as Salsa CI runs it): every compiler and linker call of the build log got
    # Debian's hardening flags.
    if blhc --debian --all "$logs/dpkg-buildpackage.log" >"$logs/blhc.log" 2>&1 && [ ! -s "$logs/blhc.log" ]; then
        xa_check "$stage" "blhc: no missing hardening flag in the build log" pass \
            "$(grep -c '^\[[0-9]*/[0-9]*\] ' "$logs/dpkg-buildpackage.log" || true) build steps"
    else
        head -n 5 "$logs/blhc.log" >&2
        fail "blhc: no missing hardening flag in the build log" "see $logs/blhc.log"
    fi
    # 4c. Reproducible: a second build from the same source with reprotest's variations
    # (path, umask, time zone, locale, host name, no ccache) gives the same .debs.
    start=$(xa_now)
    if "$tests/reproducible.sh" "$src" "$XA_OUT/debs" "$logs" >"$logs/reproducible.log" 2>&1; then
        xa_check "$stage" "reproducible: a varied second build gives identical .debs" pass \
            "$(tail -n 1 "$logs/reproducible.log")"
    else
        tail -n 10 "$logs/reproducible.log" >&2
        fail "reproducible: a varied second build gives identical .debs" "see $logs/reproducible.log"
    fi
    xa_metric "$stage" reproducible-seconds "$(($(xa_now) - start))" s
fi

# 5. RPM: rpmbuild -ba on this Debian host. Debian's rpm lacks the Fedora macros the spec
# uses, so rpm/macros.debian-host supplies them; --nodeps because BuildRequires name Fedora
# packages that dpkg, not rpm, provides here.
start=$(xa_now)
if nice -n 10 rpmbuild --load "$XA_TOP/rpm/macros.debian-host" --define "_topdir $work/rpmbuild" \
    --define "_smp_mflags -j2" --nodeps -ba "$src/rpm/xen-autoload.spec" \
    >"$logs/rpmbuild.log" 2>&1; then
    find "$work/rpmbuild/RPMS" "$work/rpmbuild/SRPMS" -name '*.rpm' -exec mv -t "$XA_OUT/rpms/" {} +
    xa_check "$stage" "rpmbuild -ba" pass "$(find "$XA_OUT/rpms" -name '*.rpm' -printf '%f ')"
else
    tail -n 40 "$logs/rpmbuild.log" >&2
    fail "rpmbuild -ba" "see $logs/rpmbuild.log"
fi
xa_metric "$stage" rpm-build-seconds "$(($(xa_now) - start))" s

if compgen -G "$XA_OUT/rpms/*.rpm" >/dev/null; then
    # 6. rpmlint with Fedora's policy: 0 errors (warnings are in the log).
    xa_rpmlint "$stage" "rpmlint: 0 errors" "$logs/rpmlint.log" \
        "$XA_TOP/rpm/xen-autoload.spec" "$XA_OUT"/rpms/*.rpm || status=1
    # 7. rpm --root: the files land where a RHEL-style system expects them.
    if "$tests/rpm-root-install.sh" "$XA_OUT/rpms" >"$logs/rpm-root-install.log" 2>&1; then
        xa_check "$stage" "rpm --root install, RHEL paths" pass "$(tail -n 1 "$logs/rpm-root-install.log")"
    else
        tail -n 20 "$logs/rpm-root-install.log" >&2
        fail "rpm --root install, RHEL paths" "see $logs/rpm-root-install.log"
    fi
fi

# 8. The repositories, then installing from them.
if [ $status -eq 0 ]; then
    if "$here/publish-repos.sh" >"$logs/publish-repos.log" 2>&1; then
        xa_check "$stage" "apt and dnf repositories published" pass "$XA_OUT/repo"
    else
        tail -n 20 "$logs/publish-repos.log" >&2
        fail "apt and dnf repositories published" "see $logs/publish-repos.log"
    fi
fi
if [ $status -eq 0 ]; then
    run_test() { # run_test NAME SCRIPT [ARG...]: one check per test script, log in pkg/logs
        local name=$1 script=$2 log t0
        shift 2
        log=$logs/$(basename "$script" .sh).log
        t0=$(xa_now)
        if "$script" "$@" >"$log" 2>&1; then
            xa_check "$stage" "$name" pass "$(tail -n 1 "$log")"
        else
            tail -n 30 "$log" >&2
            fail "$name" "see $log"
        fi
        xa_metric "$stage" "$(basename "$script" .sh)-seconds" "$(($(xa_now) - t0))" s
    }
    run_test "apt-get install xen-autoload from the signed repository" "$tests/apt-install.sh"
    run_test "dnf resolves xen-autoload from the dnf repository" "$tests/dnf-resolve.sh"
    if [ "${XA_PKG_SKIP_SLOW:-0}" = 1 ]; then
        xa_check "$stage" "piuparts install/upgrade/remove/purge" skip "XA_PKG_SKIP_SLOW=1"
        xa_check "$stage" "autopkgtest" skip "XA_PKG_SKIP_SLOW=1"
    else
        run_test "piuparts install/upgrade/remove/purge" "$tests/piuparts.sh"
        run_test "autopkgtest" "$tests/autopkgtest.sh"
    fi
fi
# The next run's piuparts upgrades from this build: copied beside, then swapped in under
# the lock piuparts.sh takes to copy it (a concurrent run sees the old set or the new one).
if [ $status -eq 0 ]; then
    xa_lock pkg-previous
    rm -rf "$XA_CACHE"/pkg-previous.new.*  # a killed run's (we hold the lock)
    prev_new=$(mktemp -d "$XA_CACHE/pkg-previous.new.XXXXXX")
    chmod 755 "$prev_new"
    cp "$XA_OUT"/debs/*.deb "$prev_new/"
    xa_publish "$prev_new" "$XA_CACHE/pkg-previous"
    xa_unlock pkg-previous
fi
exit $status
