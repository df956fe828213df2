#!/bin/bash
# Stage admin: the admin's own path, proven by boots. No -kernel, no packages
# installed in a chroot: a disk with Debian 12 installed (ci/admin/make-base-disk.sh: GPT,
# mmdebstrap root, grub-install + update-grub, the admin's serial-console drop-in) boots
# through its firmware and its own GRUB, and the in-image script (ci/admin/xa-admin.sh with
# stage boot's check library ci/boot/xa-lib.sh, xa-admin.service: the only CI additions to
# the disk) walks the admin's path, one step per
# boot, on the same disk (it persists between boots):
#   boot 1  native: add our repository (file: URI on a repository disk, key in
#           /etc/apt/keyrings; first without the key: apt must refuse it), apt-get install -y
#           xen-host (uefi: over a policy drop-in with a typo first, so the initramfs trigger
#           fails and names the file and what to run; then the fix and dpkg --configure -a);
#           maintainer scripts and triggers ran (initramfs holds our hook, grub.cfg has Xen
#           as default)
#   boot 2  GRUB's default entry = Xen: every dom0 check of stage boot and a PV guest with
#           a vif and a vbd Connected, then apt-get upgrade to a newer build with the daemon
#           running and a second guest, then apt-get purge xen-autoload xen-host (Xen stays)
#   boot 3  Xen still boots, no file of ours left (piuparts-style file lists), no failed
#           unit, no error
# for each firmware: bios (SeaBIOS, grub-pc) and uefi (OVMF; shim-signed and
# grub-efi-amd64-signed at the removable path, as Debian's installer sets up a UEFI machine).
# The VM has no network: the repository disk holds our signed apt repository AND every
# Debian .deb `apt-get install xen-host` needs there, resolved on the host against the base
# disk's dpkg status and the machine's own apt sources, in one flat repository signed with
# the CI archive key (the same key and tools as ci/publish-repos.sh). The repository disk of
# boots 2 and 3 adds the newer build: this tree rebuilt with the upstream version bumped
# (VERSION.1 in CMakeLists.txt and debian/changelog), so `xen-autoload --version` changes too.
# Checks: stage admin (preparation), admin-bios, admin-uefi (per boot, "boot N: ...").
# Metrics: each boot's wall time and milestones, apt timings. Outputs in $XA_OUT/admin.
# Usage: ci/stage-admin.sh [bios|uefi...]   (default: bios uefi; after stage packages)
# Environment: XA_ADMIN_BOOTS=N runs boots 1..N only (default 3); XA_ADMIN_DEADLINE_SCALE=N
# multiplies the per-boot deadlines (2700, 2700, 1500 s).
# XA_ADMIN_INITRAMFS_MODULES=most makes base disks with Debian's default MODULES=most instead
# of the admin's MODULES=dep (ci/admin/make-base-disk.sh; a separate cache entry; one rebuild
# of such an image in the VM takes half an hour under TCG). XA_ADMIN_RECOMMENDS=1
# installs xen-host with its Recommends (default 0: `apt-get install --no-install-recommends`,
# as an admin of a server does: on Debian 12 the Recommends are qemu-system-xen for HVM
# guests and its graphics/audio stack, 313 packages and 222 MiB instead of 40 and 12 MiB,
# which would cost far more TCG time than the rest of the stage).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[ $# -gt 0 ] || set -- bios uefi
for fw in "$@"; do
    case $fw in bios | uefi) ;; *) echo "stage-admin: unknown firmware '$fw' (bios, uefi)" >&2; exit 2 ;; esac
done
stage='admin'
work=$XA_OUT/admin
repo=$XA_OUT/repo/apt
max_boots=${XA_ADMIN_BOOTS:-3}
# Deadlines: a boot of the loaded 2-core machine at nice 19 gets ~10 % of a CPU (the
# initramfs alone took 4 min to load through SeaBIOS); XA_ADMIN_DEADLINE_SCALE multiplies.
scale=${XA_ADMIN_DEADLINE_SCALE:-1}
recommends=false install_opts=--no-install-recommends
if [ "${XA_ADMIN_RECOMMENDS:-0}" = 1 ]; then recommends=true install_opts=; fi
deb_cache=$XA_CACHE/admin-debs
export GNUPGHOME=$XA_CACHE/apt-signing-gnupg   # ci/publish-repos.sh's key
key_uid="xen-autoload CI archive signing key"
status=0
fail() { xa_check "$1" "$2" fail "${3:-}"; status=1; }

rm -f "$XA_OUT"/report/admin*.checks "$XA_OUT"/report/admin*.metrics
mkdir -p "$work" "$deb_cache/partial"

# 1. Our repository (stage packages) and the version it publishes.
pkg_version() { # pkg_version PACKAGES_FILE PACKAGE
    awk -v p="$2" '$1=="Package:"{cur=$2} $1=="Version:" && cur==p {print $2; exit}' "$1"
}
if [ ! -f "$repo/Packages" ] || [ ! -f "$repo/InRelease" ] || [ ! -f "$repo/xen-autoload-archive.gpg" ]; then
    fail "$stage" "signed apt repository present" "$repo: run stage packages first"
    exit 1
fi
v1=$(pkg_version "$repo/Packages" xen-autoload)
if [ -z "$v1" ] || [ "$(pkg_version "$repo/Packages" xen-host)" != "$v1" ]; then
    fail "$stage" "signed apt repository present" "no xen-autoload/xen-host of one version in $repo/Packages"
    exit 1
fi
xa_check "$stage" "signed apt repository present" pass "$repo, xen-autoload $v1"
fingerprint=$(gpg --batch --with-colons --list-secret-keys "$key_uid" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
[ -n "$fingerprint" ] || { fail "$stage" "archive signing key" "no '$key_uid' in $GNUPGHOME"; exit 1; }

# sign_repo DIR: Packages, Release, InRelease, Release.gpg and the public key, as
# ci/publish-repos.sh writes them; the signature must verify with the published key.
sign_repo() {
    local dir=$1
    (
        cd "$dir"
        apt-ftparchive packages . >Packages 2>/dev/null
        gzip -9nkf Packages
        apt-ftparchive -o APT::FTPArchive::Release::Origin=xen-autoload \
            -o APT::FTPArchive::Release::Label=xen-autoload \
            -o APT::FTPArchive::Release::Suite=local -o APT::FTPArchive::Release::Codename=local \
            -o "APT::FTPArchive::Release::Description=xen-autoload CI build and the Debian packages it needs" \
            release . >"../$(basename "$dir").Release"
        mv "../$(basename "$dir").Release" Release
        gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 --clearsign -o InRelease Release
        gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 -abs -o Release.gpg Release
        gpg --batch --export "$fingerprint" >xen-autoload-archive.gpg
    ) && gpgv --keyring "$dir/xen-autoload-archive.gpg" "$dir/InRelease" 2>/dev/null
}
# link_or_copy FILE... DIR: hard links where the filesystems allow, copies otherwise.
link_or_copy() { cp -l "$@" 2>/dev/null || cp "$@"; }

# 2. The newer build for the upgrade: this tree with the upstream version bumped
# (CMakeLists.txt project VERSION and a debian/changelog entry), built with
# dpkg-buildpackage (nocheck: stage packages ran the tests on the same source). Cached by
# the published .debs it supersedes.
upstream1=${v1%%-*}
upstream2=$upstream1.1
v2=${v1/#"$upstream1"/"$upstream2"}
v2_key=$(cat "$repo"/xen-autoload_"${v1}"_*.deb "$repo"/xen-host_"${v1}"_*.deb | sha256sum | cut -c1-16)
v2_dir=$XA_CACHE/admin-v2/$v2-$v2_key
# build_v2: the build, into the cache (a mktemp directory renamed into place).
build_v2() {
    [ ! -f "$v2_dir/done" ] || return 0
    local t0 src maint tmp
    t0=$(xa_now)
    xa_say "admin: building xen-autoload $v2 for the upgrade test"
    src=$work/v2src/xen-autoload-$upstream2
    rm -rf "$work/v2src"
    xa_source_copy "$src"
    sed -i -E "s/^(project\(xen-autoload VERSION )$upstream1\b/\1$upstream2/" "$src/CMakeLists.txt"
    grep -q "project(xen-autoload VERSION $upstream2" "$src/CMakeLists.txt" || return 1
    maint=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$src/debian/changelog" | head -n 1)
    { printf 'xen-autoload (%s) unstable; urgency=medium\n\n' "$v2"
      printf '  * CI build for stage admin: upstream version bumped from %s for the\n    upgrade test.\n\n' "$upstream1"
      printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
      cat "$src/debian/changelog"; } >"$src/debian/changelog.new"
    mv "$src/debian/changelog.new" "$src/debian/changelog"
    [ ! -d /usr/lib/ccache ] || export PATH=/usr/lib/ccache:$PATH
    # -d: stage packages checked the build dependencies on this machine; an apt run of
    # another job can leave a trigger pending (udev "it"), which dpkg-checkbuilddeps counts
    # as unmet while the package is there.
    (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 dpkg-buildpackage -us -uc -b -d) \
        >"$work/v2-build.log" 2>&1 || return 1
    mkdir -p "$XA_CACHE/admin-v2"
    tmp=$(mktemp -d "$XA_CACHE/admin-v2/.new.XXXXXX")
    cp "$work"/v2src/*.deb "$tmp/"
    touch "$tmp/done"
    rm -rf "$v2_dir"
    mv "$tmp" "$v2_dir"
    rm -rf "$work/v2src"
    xa_metric "$stage" v2-build-seconds "$(($(xa_now) - t0))" s
}
# It runs while the boots 1 do (which do not need it); its exit status goes to a file, so
# that each firmware's run (a subshell: the firmwares boot side by side) can wait for it.
rm -f "$work/v2-build.rc"
(rc=0; build_v2 >"$work/v2-build.out" 2>&1 || rc=$?; echo "$rc" >"$work/v2-build.rc") &
v2_pid=$!
# v2_ready: 0 once the newer build is in the cache, 1 when it failed; waits for it (every
# wait has a deadline: the build takes minutes, the boots 1 take longer).
v2_ready() {
    local deadline=$((SECONDS + 3600))
    while [ ! -f "$work/v2-build.rc" ] && [ $SECONDS -lt $deadline ]; do sleep 5; done
    [ "$(cat "$work/v2-build.rc" 2>/dev/null)" = 0 ] && [ -f "$v2_dir/done" ]
}
# v2_check: the build's check, once, in the stage's own shell after the firmwares.
v2_check() {
    wait "$v2_pid" 2>/dev/null || true
    if v2_ready; then
        xa_check "$stage" "newer build $v2 for the upgrade" pass "$(find "$v2_dir" -name '*.deb' -printf '%f ')"
    else
        tail -n 30 "$work/v2-build.log" >&2
        fail "$stage" "newer build $v2 for the upgrade" "see $work/v2-build.log, $work/v2-build.out"
    fi
}

# 3. Per firmware: the Debian .debs `apt-get install xen-host` needs on that base disk,
# resolved by the host's apt against the base disk's dpkg status, the machine's own sources
# and our repository, with the options the in-image install uses (Recommends: see above).
# resolve_repo FW BASE_ENTRY OUT_DIR: OUT_DIR/repo-v1 (flat, signed).
resolve_repo() {
    local fw=$1 base=$2 dir=$3 aptd=$3/apt src_name=debian.sources
    rm -rf "$aptd" "$dir/repo-v1" "$dir/repo-v2"
    mkdir -p "$aptd/lists/partial" "$aptd/cache" "$aptd/sources.list.d" "$aptd/preferences.d"
    : >"$aptd/sources.list"
    xa_apt_sources >"$aptd/machine.sources"
    grep -q '^Types:' "$aptd/machine.sources" || src_name=debian.list
    mv "$aptd/machine.sources" "$aptd/sources.list.d/$src_name"
    echo "deb [signed-by=$repo/xen-autoload-archive.gpg] file:$repo ./" >"$aptd/sources.list.d/xen-autoload.list"
    cp "$base/dpkg.status" "$aptd/status"
    local opts=(-o "Dir::Etc::SourceList=$aptd/sources.list" -o "Dir::Etc::SourceParts=$aptd/sources.list.d"
        -o "Dir::Etc::PreferencesParts=$aptd/preferences.d" -o "Dir::Etc::Preferences=$aptd/preferences"
        -o "Dir::State::Lists=$aptd/lists" -o "Dir::State::status=$aptd/status"
        -o "Dir::State::extended_states=$aptd/extended_states" -o "Dir::Cache=$aptd/cache"
        -o "Dir::Cache::archives=$deb_cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
        -o "APT::Install-Recommends=$recommends" -o APT::Install-Suggests=false)
    apt-get "${opts[@]}" update >"$dir/host-apt-update.log" 2>&1 || return 1
    # --print-uris leaves out what is in the archives directory already: ask with an empty one.
    mkdir -p "$aptd/empty-archives/partial"
    apt-get "${opts[@]}" -o "Dir::Cache::archives=$aptd/empty-archives" install --print-uris -qq xen-host \
        >"$dir/host-apt-uris.txt" 2>&1 || return 1
    # The .deb cache is shared (the other firmware's run, other pipelines) and apt's own
    # lock is off here: one download into it at a time.
    xa_lock admin-debs || return 1
    local dl=0
    nice -n 10 apt-get "${opts[@]}" install --download-only -y -qq xen-host >"$dir/host-apt-download.log" 2>&1 || dl=1
    xa_unlock admin-debs
    [ "$dl" = 0 ] || return 1
    mkdir -p "$dir/repo-v1"
    local uri file n=0
    while read -r uri file _; do
        uri=${uri//\'/}
        case $uri in
            file:*) ;;                                   # ours: from our repository, below
            *) [ -f "$deb_cache/$file" ] || return 1
               link_or_copy "$deb_cache/$file" "$dir/repo-v1/"; n=$((n + 1)) ;;
        esac
    done <"$dir/host-apt-uris.txt"
    link_or_copy "$repo"/*.deb "$dir/repo-v1/"
    compgen -G "$dir/repo-v1/xen-system-amd64_*.deb" >/dev/null || return 1
    xa_metric "admin-$fw" debian-debs-for-xen-host "$n" packages
    xa_metric "admin-$fw" repo-mib "$(du -sm "$dir/repo-v1" | cut -f1)" MiB
    sign_repo "$dir/repo-v1" || return 1
}
# repo_v2 DIR: DIR/repo-v2, repo-v1 plus the newer build (flat, signed).
repo_v2() {
    local dir=$1
    rm -rf "$dir/repo-v2"
    mkdir -p "$dir/repo-v2"
    link_or_copy "$dir"/repo-v1/*.deb "$v2_dir"/*.deb "$dir/repo-v2/"
    sign_repo "$dir/repo-v2"
}
# repo_disk DIR REPO_SUBDIR IMAGE [V2]: an ext4 image, LABEL=xa-repo: repo/, expect.env and
# guest/ (the CI's PV test guest for the base disk's kernel, $guest_base: its initramfs and
# the xl config template of stage boot).
repo_disk() {
    local dir=$1 sub=$2 img=$3 with_v2=${4:-} t=$1/disk-$2
    rm -rf "$t"
    mkdir -p "$t/guest"
    cp -al "$dir/$sub" "$t/repo" 2>/dev/null || cp -a "$dir/$sub" "$t/repo"
    cp "$guest_base/guest-initrd.img" "$t/guest/guest-initrd-$(cat "$guest_base/kernel-release").img"
    cp "$here/boot/xa-guest.cfg" "$t/guest/xa-guest.cfg.in"
    { echo "V1=$v1"; echo "APT_INSTALL_OPTS=$install_opts"
      # One firmware's boot 1 installs over a policy drop-in with a typo (a failed postinst:
      # the initramfs trigger), the other the plain way.
      [ "$cur_fw" != uefi ] || echo "INSTALL_WITH_BROKEN_POLICY=1"
      [ -z "$with_v2" ] || printf 'V2=%s\nV2_UPSTREAM=%s\n' "$v2" "$upstream2"; } >"$t/expect.env"
    rm -f "$img"
    truncate -s $(($(du -sm "$t" | cut -f1) + 64))M "$img"
    mkfs.ext4 -q -F -L xa-repo -d "$t" "$img"
    rm -rf "$t"
}
# inject DISK: the only CI addition to the installed system, xa-admin and its unit
# (enabled), with the gettys masked (a "login:" prompt would interleave with the markers).
inject() {
    local disk=$1 loop mnt u ok=1
    mnt=$(dirname "$disk")/mnt
    loop=$("$here/admin/loop-attach.sh" "$disk" 2) || return 1
    mkdir -p "$mnt"
    if mount "${loop}p2" "$mnt"; then
        ok=0
        install -D -m 0755 "$here/admin/xa-admin.sh" "$mnt/usr/local/lib/xa-admin/xa-admin"
        install -D -m 0644 "$here/boot/xa-lib.sh" "$mnt/usr/local/lib/xa-admin/xa-lib"
        install -D -m 0644 "$here/admin/xa-admin.service" "$mnt/etc/systemd/system/xa-admin.service"
        mkdir -p "$mnt/etc/systemd/system/multi-user.target.wants"
        ln -sf ../xa-admin.service "$mnt/etc/systemd/system/multi-user.target.wants/xa-admin.service"
        for u in serial-getty@.service getty@.service console-getty.service getty-static.service; do
            ln -sf /dev/null "$mnt/etc/systemd/system/$u"
        done
        umount "$mnt"
    fi
    losetup -d "$loop"
    rmdir "$mnt"
    return $ok
}

# record_boot STAGE N PHASE NAME DIR RC: host-side checks of one boot, then the in-image
# checks and metrics, each named "boot N: ...". Returns 1 when the disk did not move on to
# the next phase (the next boot would be meaningless).
record_boot() {
    local st=$1 n=$2 phase=$3 name=$4 dir=$5 rc=$6 p="boot $2: " advanced=0
    local console=$dir/$name.console.log timing=$dir/$name.timing results=$dir/$name/results.jsonl key v
    for key in grub systemd_up checks_start 'done' exit; do
        v=$(sed -n "s/^$key=//p" "$timing" 2>/dev/null)
        [ -z "$v" ] || xa_metric "$st" "boot$n-$key-s" "$v" "s from QEMU start"
    done
    if grep -q '^timed_out=1' "$timing" 2>/dev/null; then
        fail "$st" "${p}powered off within the deadline" "killed after $(sed -n 's/^exit=//p' "$timing") s"
    else
        xa_check "$st" "${p}powered off within the deadline" pass "$(sed -n 's/^exit=//p' "$timing") s"
    fi
    if grep -aq 'GNU GRUB' "$console"; then
        xa_check "$st" "${p}booted through the disk's GRUB" pass
    else
        fail "$st" "${p}booted through the disk's GRUB" "no 'GNU GRUB' on the console"
    fi
    local xen_banner
    xen_banner=$(grep -a -m1 -o '(XEN) Xen version [^ ]*' "$console" | tr -d '\r' || true)
    if [ "$n" = 1 ]; then
        if [ -z "$xen_banner" ]; then xa_check "$st" "${p}no Xen (stock entry)" pass
        else fail "$st" "${p}no Xen (stock entry)" "$xen_banner"; fi
    elif [ -n "$xen_banner" ]; then
        xa_check "$st" "${p}Xen on the console" pass "$xen_banner"
    else
        fail "$st" "${p}Xen on the console" "no '(XEN) Xen version'"
    fi
    local panic
    panic=$(xa_panic_line "$console")
    if [ -z "$panic" ]; then xa_check "$st" "${p}no panic or oops on the console" pass
    else fail "$st" "${p}no panic or oops on the console" "$panic"; fi
    if [ "$rc" != 0 ]; then
        fail "$st" "${p}console XA-DONE marker and result disk" "$(tr '\n' ' ' <"$dir/$name.err" | cut -c1-300)"
        [ -s "$results" ] || return 1
    else
        xa_check "$st" "${p}console XA-DONE marker and result disk" pass "$console"
        local n_console n_disk
        n_console=$(grep -ac 'XA-CHECK \(pass\|fail\) ' "$console" || true)
        n_disk=$(jq -s '[.[] | select(.kind=="check")] | length' "$results")
        if [ "$n_console" = "$n_disk" ]; then xa_check "$st" "${p}console markers match the result disk" pass "$n_disk checks"
        else fail "$st" "${p}console markers match the result disk" "console $n_console, disk $n_disk"; fi
    fi
    # The disk was where this boot expects it, and moved on to the next step.
    local done_line next
    case $phase in install) next=installed ;; installed) next=purged ;; *) next='done' ;; esac
    done_line=$(grep -a -m1 -o 'XA-DONE phase=[a-z]* next=[a-z]*' "$console" | tr -d '\r' || true)
    if [ "$done_line" = "XA-DONE phase=$phase next=$next" ]; then
        xa_check "$st" "${p}phase $phase done, disk now at $next" pass
    else
        fail "$st" "${p}phase $phase done, disk now at $next" "${done_line:-no XA-DONE}"
        advanced=1
    fi
    if [ "$n" = 2 ]; then # the backends were inserted by xen-autoload (initramfs or unit)
        local m dash
        for m in xen_netback xen_blkback; do
            dash=${m//_/-}
            if grep -aqE "^(\[ *[0-9]+\.[0-9]+\] )?xen-autoload: $dash: loaded( as $m)?"$'\r*$' "$console" ||
                grep -qE "xen-autoload\[[0-9]+\]: $dash: loaded( as $m)?$" "$dir/$name/journal-xen-autoload.txt" 2>/dev/null; then
                xa_check "$st" "${p}$m inserted by xen-autoload at boot" pass
            else
                fail "$st" "${p}$m inserted by xen-autoload at boot" "no 'xen-autoload: $dash: loaded' on the console or in the unit's journal"
            fi
        done
    fi
    local line kind_ name_ r d u
    while IFS= read -r line; do
        kind_=$(jq -r .kind <<<"$line")
        name_=$(jq -r .name <<<"$line")
        if [ "$kind_" = check ]; then
            r=$(jq -r .result <<<"$line")
            d=$(jq -r .detail <<<"$line")
            xa_check "$st" "$p$name_" "$r" "$d"
            [ "$r" = pass ] || status=1
        else
            v=$(jq -c .value <<<"$line")
            u=$(jq -r .unit <<<"$line")
            xa_metric "$st" "boot$n-$name_" "$v" "$u"
        fi
    done <"$results"
    return $advanced
}

# 4. One firmware end to end.
run_firmware() {
    local fw=$1 st=admin-$1 dir=$work/$1 base t0
    rm -rf "$dir"
    mkdir -p "$dir"
    t0=$(xa_now)
    if base=$("$here/admin/make-base-disk.sh" "$fw" 2>"$dir/base-disk.err"); then
        xa_check "$st" "installed Debian 12 base disk ($fw)" pass "$base ($(tail -n 1 "$base/build.log"))"
    else
        tail -n 20 "$dir/base-disk.err" >&2
        fail "$st" "installed Debian 12 base disk ($fw)" "see $dir/base-disk.err"
        return
    fi
    xa_metric "$st" base-disk-s "$(($(xa_now) - t0))" "s (cached: near 0)"
    guest_base=$base cur_fw=$fw
    t0=$(xa_now)
    if resolve_repo "$fw" "$base" "$dir"; then
        xa_check "$st" "repository disk: our repo + every Debian .deb xen-host needs, signed" pass \
            "$(grep -c '^Package:' "$dir/repo-v1/Packages") packages"
    else
        fail "$st" "repository disk: our repo + every Debian .deb xen-host needs, signed" "see $dir/host-apt-*.log"
        return
    fi
    repo_disk "$dir" repo-v1 "$dir/repo-v1.img"
    xa_metric "$st" repo-disk-s "$(($(xa_now) - t0))" s
    cp --sparse=always "$base/disk.img" "$dir/disk.img"
    if inject "$dir/disk.img"; then xa_check "$st" "xa-admin unit put on the disk" pass
    else fail "$st" "xa-admin unit put on the disk" "losetup/mount failed"; return; fi

    local n phase name repo_img deadline rc
    for n in 1 2 3; do
        [ "$n" -le "$max_boots" ] || break
        if [ "$n" = 2 ]; then # the repository disk with the newer build
            if ! v2_ready; then
                fail "$st" "newer build $v2 for the upgrade" "see $work/v2-build.log"
                break
            fi
            if ! repo_v2 "$dir" || ! repo_disk "$dir" repo-v2 "$dir/repo-v2.img" with-v2; then
                fail "$st" "repository disk with the newer build $v2" "$dir/repo-v2"
                break
            fi
        fi
        case $n in
            1) phase=install repo_img=$dir/repo-v1.img deadline=$((2700 * scale)) ;;
            2) phase=installed repo_img=$dir/repo-v2.img deadline=$((2700 * scale)) ;;
            3) phase=purged repo_img=$dir/repo-v2.img deadline=$((1500 * scale)) ;;
        esac
        name=boot$n-$phase
        xa_say "admin: $fw boot $n ($phase), deadline $deadline s"
        rc=0
        "$here/admin/qemu-disk-boot.sh" "$fw" "$dir/disk.img" "$dir/OVMF_VARS.fd" "$repo_img" \
            "$dir" "$name" "$deadline" 2>"$dir/$name.err" || rc=$?
        record_boot "$st" "$n" "$phase" "$name" "$dir" "$rc" || { xa_say "admin: $fw boot $n failed: no further boots"; break; }
    done
}

command -v qemu-system-x86_64 >/dev/null || { fail "$stage" "qemu-system-x86_64 present" "ci/deps/admin.txt"; exit 1; }
# The firmwares side by side: most of a boot's work (dpkg, update-initramfs) keeps one of
# its two emulated CPUs busy, so two VMs share the two host cores with little loss, and the
# stage takes about as long as one firmware. Each run writes its own checks (admin-FW).
fw_pids=()
xa_say "admin: $* side by side (progress in $work/FIRMWARE.log, shown when done)"
for fw in "$@"; do
    run_firmware "$fw" >"$work/$fw.log" 2>&1 &
    fw_pids+=($!)
done
for pid in "${fw_pids[@]}"; do wait "$pid" || true; done
for fw in "$@"; do cat "$work/$fw.log" >&2; done
# Debian 13's admin path is not booted: each firmware's path above costs about as much CPU
# as the whole of stage boot, and the pipeline's time budget (README) has no room for a
# third. Debian 13 with our packages is booted by stage boot (boot-xen-trixie,
# boot-native-trixie), from an image made by mmdebstrap, not through GRUB.
xa_check "$stage" "Debian 13 (trixie): the admin's path through GRUB" skip \
    "not run: the CI time budget holds the two Debian 12 firmware paths only; Debian 13 is booted by stage boot (boot-xen-trixie) with -kernel"
v2_check
for f in "$XA_OUT"/report/admin*.checks; do
    [ -f "$f" ] || continue
    if jq -se 'any(.[]; .result=="fail")' "$f" >/dev/null; then status=1; fi
done
exit $status
