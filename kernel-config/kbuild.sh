#!/bin/bash
# The one kernel build every packaging path shares: debian/rules (profile
# pkg.xen-autoload.kernel), rpm/xen-autoload.spec (--with kernel) and the manual
# kernel-config/build-kernel.sh all call this script, so the .deb, the .rpm and a manual
# build are the same kernel from the same steps.
#
# Usage: kernel-config/kbuild.sh --workdir DIR [--tarball FILE] [--flavour small|debian]
#                                [--jobs N] COMMAND
#   config           unpack (once), strict merge into DIR/merge-FLAVOUR, copy to the
#                    objtree; prints the merged config's path
#   build            config, then `make bzImage modules`
#   release          print the kernel release (`make kernelrelease`, e.g. 6.1.192-xen-autoload)
#   install DESTDIR  /boot/{vmlinuz,config,System.map}-REL and /lib/modules/REL below DESTDIR
#
# Layout below DIR (a directory of the package build, e.g. debian/kernel-build):
#   linux-source-6.1/       the unpacked tarball (unpack-source.sh: once per tarball sha256)
#   linux-source-6.1/obj-FLAVOUR/  the objtree. A direct subdirectory of the source on
#                           purpose: kbuild then uses srctree=".." instead of an absolute
#                           path, so no compiler argument names the build directory and
#                           ccache hits across fresh clones in different directories
#                           (with CCACHE_BASEDIR and CCACHE_NOHASHDIR set by the caller).
#   merge-FLAVOUR/          config-only objtree of the strict merge (merge/.config is the
#                           merged config; `config` prints its path)
#
# The small flavour is x86_64_defconfig + kvm_guest.config + fragments/*.config +
# small-base/*.config (what CI builds); debian is Debian's amd64 config + fragments + debian-base/ (hours on 2 cores,
# needs apt-get download: manual only, see README.md).
# ccache is not required: CI puts /usr/lib/ccache first in PATH, and CC=gcc finds it.
# Exit: 0 done; 1 a strict-merge request did not hold or make failed; 2 usage/missing input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prog=kbuild

die() { echo "$prog: $*" >&2; exit 2; }
workdir=
tarball=/usr/src/linux-source-6.1.tar.xz
flavour=small
jobs=1
while [ $# -gt 0 ]; do
    case $1 in
        --workdir) workdir=${2:-}; shift 2 ;;
        --tarball) tarball=${2:-}; shift 2 ;;
        --flavour) flavour=${2:-}; shift 2 ;;
        --jobs) jobs=${2:-}; shift 2 ;;
        -*) die "unknown option: '$1'" ;;
        *) break ;;
    esac
done
command=${1:-}
[ -n "$workdir" ] || die "--workdir: missing"
case $flavour in small | debian) ;; *) die "--flavour: unknown value: '$flavour'" ;; esac
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs: not a positive number: '$jobs'"
[ -f "$tarball" ] || die "$tarball: missing (Debian: install linux-source-6.1; RPM: Source1)"
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
srctree=$workdir/linux-source-6.1
objtree=$srctree/obj-$flavour
merge=$workdir/merge-$flavour

# The kernel's own flags only: dpkg-buildpackage and rpmbuild export CFLAGS/LDFLAGS for
# user space, and an LDFLAGS meant for gcc (-Wl,...) breaks kbuild's direct ld calls.
unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
# Called from debian/rules, a make: its MAKEFLAGS (-w, jobserver) would leak into kbuild,
# and -w makes `make -s kernelrelease` print "Entering directory" lines into the release.
unset MAKEFLAGS MFLAGS MAKELEVEL
# One locale for every caller: ccache hashes LANG, LC_ALL, LC_CTYPE and LC_MESSAGES (they
# change the compiler's messages), and rpmbuild sets LANG=C while dpkg-buildpackage keeps
# the caller's: without this the .rpm build missed every object the .deb build cached.
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_MESSAGES
# A fixed user, host and date keep init/version.o a ccache hit and the build
# reproducible: SOURCE_DATE_EPOCH when the packaging tool sets it, else the tarball's date.
build_date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$tarball")}" '+%Y-%m-%d')
kmake() {
    make -C "$srctree" "O=obj-$flavour" ARCH=x86_64 "-j$jobs" "KBUILD_BUILD_TIMESTAMP=$build_date" \
        KBUILD_BUILD_USER=xen-autoload KBUILD_BUILD_HOST=xen-autoload "$@"
}

config() {
    "$here/unpack-source.sh" --tarball "$tarball" "$workdir" >/dev/null || exit 2
    local base_args=(--base-target x86_64_defconfig --base-target kvm_guest.config)
    local fragments=("$here"/fragments/*.config "$here"/small-base/*.config)
    if [ "$flavour" = debian ]; then
        base_args=(--base-config "$("$here/fetch-debian-config.sh" amd64)")
        fragments=("$here"/fragments/*.config "$here"/debian-base/*.config)
    fi
    rm -rf "$merge"
    "$here/merge-strict.py" --srctree "$srctree" --objtree "$merge" \
        "${base_args[@]}" "${fragments[@]}" || exit 1
    # Only replace the objtree's .config when it changed: kbuild then rebuilds only what
    # depends on the changed symbols.
    mkdir -p "$objtree"
    cmp -s "$merge/.config" "$objtree/.config" || cp "$merge/.config" "$objtree/.config"
}

release() {
    local rel
    [ -f "$objtree/.config" ] || die "$objtree/.config: missing (run '$prog build' first)"
    rel=$(kmake -s kernelrelease)
    # It names files and goes into maintainer scripts: one word, nothing else.
    [[ $rel =~ ^[0-9][0-9A-Za-z.+_-]*$ ]] || die "make kernelrelease: not a kernel release: '$rel'"
    echo "$rel"
}

install_tree() {
    local dest=$1 rel image
    [ -n "$dest" ] || die "install: DESTDIR missing"
    # Absolute: make -C changes directory before modules_install uses it.
    mkdir -p "$dest"
    dest=$(cd "$dest" && pwd)
    rel=$(release)
    image=$objtree/$(kmake -s image_name)
    if [ ! -f "$image" ] || [ ! -f "$objtree/System.map" ]; then
        die "$image: missing (run '$prog build' first)"
    fi
    install -d "$dest/boot"
    install -m 0644 "$image" "$dest/boot/vmlinuz-$rel"
    install -m 0644 "$objtree/.config" "$dest/boot/config-$rel"
    install -m 0644 "$objtree/System.map" "$dest/boot/System.map-$rel"
    # Stripped of debug info like Debian's own linux-image modules. DEPMOD=true: the
    # modules.* indexes are made on the target by the package's postinst/%posttrans (depmod),
    # as Debian and Fedora do, so the package does not own files depmod rewrites.
    kmake -s INSTALL_MOD_PATH="$dest" INSTALL_MOD_STRIP=1 DEPMOD=true modules_install
    # The build/source links point into this build directory: dangling on any target.
    rm -f "$dest/lib/modules/$rel/build" "$dest/lib/modules/$rel/source"
    echo "$prog: installed $rel into $dest" >&2
}

case $command in
    config)
        config
        echo "$merge/.config"
        ;;
    build)
        config
        kmake bzImage modules
        ;;
    release) release ;;
    install) install_tree "${2:-}" ;;
    '') die "COMMAND missing (config, build, release, install DESTDIR)" ;;
    *) die "unknown command: '$command'" ;;
esac
