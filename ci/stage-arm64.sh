#!/bin/bash
# Stage arm64 (needs no other stage; last in the default run, on an idle machine): xen-host
# says it supports arm64, so the packages are built for arm64, the arm64 binaries run the
# test suite, and Xen with Debian's arm64 kernel as dom0 is booted with them.
#   1. A build root: Debian 12 amd64 with arm64 as a foreign architecture, Debian's cross
#      toolchain (crossbuild-essential-arm64), debian/control's build dependencies for
#      arm64 (apt-get build-dep -a arm64: the -dev packages multiarch) and the tools the
#      tests call. mmdebstrap from the machine's own apt sources; cached as a tar in
#      $XA_CACHE/arm64-root/ under a key of debian/control and the recipe.
#   2. dpkg-buildpackage -a arm64 -Pcross,nocheck -B in that root: xen-autoload and
#      xen-host for arm64, linted with lintian; the binary must be an AArch64 executable.
#   3. The tree again with its tests (CMake with the cross compiler, -DXA_WERROR=ON), and
#      CTest in the root, where binfmt_misc hands every arm64 program to qemu-aarch64-static
#      (the F flag: the interpreter is opened when registered, so the chroot needs no copy).
#      The pipeline's own scripts (label ci, boot.shellcheck) are left out: they are the
#      same on every architecture and stage build runs them; so is boot.initramfs, which
#      builds amd64 initramfs images. What is left out is listed, never counted as passed.
#   4. The package's binary on Debian's arm64 kernel tree: detection of a dom0 on Xen on Arm
#      (device tree) and of a native boot, the shipped policy's plan for each, and
#      check-kernel on that kernel's config (Arm's roles; no PV, PVH or HVM there).
#   5. Two boots on qemu-system-aarch64, Xen dom0 and native (step 6 below).
#   6. The arm64 packages as an apt repository, a Debian 12 arm64 image made with apt from
#      it (stage image's arm64 target, in the background from step 3 on) and booted under
#      Xen and natively with systemd, asserted as the amd64 image is (stage boot's
#      dom0-arm64 and native-arm64; step 7).
# Every command in the root runs in a mount namespace of its own (the root bound on itself,
# /proc, /sys, /dev, a tmpfs /run and /tmp), gone when it ends.
# Checks: stage arm64, and image-arm64, boot-xen-arm64, boot-native-arm64 (step 7).
# Outputs: $XA_OUT/arm64/ (debs/, repo/, boot/, boot-image/, *.log), $XA_OUT/image-arm64/.
# Needs root, loop-free.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

stage=arm64
work=$XA_OUT/arm64
root=$work/root
status=0
fail() { xa_check "$stage" "$1" fail "${2:-}"; status=1; }
rm -f "$XA_OUT/report/$stage.checks" "$XA_OUT/report/$stage.metrics"
start=$(xa_now)

# in_root CMD...: CMD in the build root, in a private mount namespace, with the machine's
# $XA_CACHE at the same path (the arm64 ccache; the tests' module tree .deb and its lock).
# shellcheck disable=SC2016 # the inner script's own variables
in_root() {
    unshare --mount --propagation private -- /bin/bash -c '
        r=$1 cache=$2
        shift 2
        mkdir -p "$r$cache" &&
            mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" &&
            mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/run" &&
            mount -t tmpfs tmpfs "$r/tmp" && mount --bind "$cache" "$r$cache" || exit 125
        exec chroot "$r" "$@"' in_root "$root" "$XA_CACHE" "$@"
}
ccache_env=(CCACHE_DIR="$XA_CACHE/ccache-arm64" PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin)

# 1. binfmt_misc: arm64 executables to qemu-aarch64-static (qemu-user-static's entry).
binfmt=/proc/sys/fs/binfmt_misc
mountpoint -q "$binfmt" || mount -t binfmt_misc binfmt_misc "$binfmt" || true
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi
# binfmt-support installed after qemu-user-static has no entry for it: the package's
# binfmt.d line, registered as systemd-binfmt does.
if [ ! -e "$binfmt/qemu-aarch64" ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register" || true
fi
if grep -q '^enabled' "$binfmt/qemu-aarch64" 2>/dev/null && grep -q '^flags: .*F' "$binfmt/qemu-aarch64"; then
    xa_check "$stage" "arm64 programs run under qemu-user (binfmt_misc)" pass \
        "$(sed -n 's/^interpreter //p' "$binfmt/qemu-aarch64"), flags $(sed -n 's/^flags: //p' "$binfmt/qemu-aarch64")"
else
    fail "arm64 programs run under qemu-user (binfmt_misc)" \
        "$binfmt/qemu-aarch64: not registered, or without the F flag (qemu-user-static, binfmt-support)"
    exit 1
fi

# 2. The build root, cached.
tools=udev,systemd,kmod,jq,cpio,zstd,e2fsprogs,ccache
# make_root NEW: the root as a tar at NEW (run by xa_cache_build).
# shellcheck disable=SC2317
make_root() {
    local new=$1 src=$work/control-src
    rm -rf "$src"
    mkdir -p "$src/debian"
    cp "$XA_TOP/debian/control" "$XA_TOP/debian/changelog" "$src/debian/"
    # shellcheck disable=SC2016 # $1 is the hook's own argument (the root)
    xa_apt_sources | nice -n 10 mmdebstrap --mode=root --variant=buildd --format=tar \
        --architectures=amd64,arm64 --include="crossbuild-essential-arm64,libstdc++6:arm64,$tools" \
        --customize-hook='mkdir -p "$1/tmp/src"' --customize-hook="copy-in $src/debian /tmp/src" \
        --customize-hook='chroot "$1" apt-get build-dep -y -a arm64 /tmp/src' \
        --customize-hook='rm -rf "$1/tmp/src"' \
        bookworm "$new" - >"$work/mmdebstrap.log" 2>&1
}
# The key: the build dependencies and the recipe (this function and the tools), so that
# another change to this script reuses the root.
key=$( { cat "$XA_TOP/debian/control"; declare -f make_root; echo "$tools"; } | sha256sum | cut -c1-16)
root_tar=$XA_CACHE/arm64-root/root-$key.tar
mkdir -p "$work"
t0=$(xa_now)
set +e
xa_cache_build arm64-root "$root_tar" make_root
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    tail -n 20 "$work/mmdebstrap.log" >&2 || true
    fail "build root (amd64 + arm64, cross toolchain, build dependencies)" "see $work/mmdebstrap.log"
    exit 1
fi
rm -rf "$root"
mkdir -p "$root"
tar -xf "$root_tar" -C "$root"
# Roots of other keys (an older debian/control) and leftovers of killed builds go after a day.
xa_lock arm64-root
find "$XA_CACHE/arm64-root" -mindepth 1 -maxdepth 1 -name 'root-*' ! -name "root-$key.tar" -mtime +0 \
    -exec rm -rf {} + || true
xa_unlock arm64-root
gcc_version=$(in_root dpkg-query -W -f="\${Version}" gcc-aarch64-linux-gnu 2>/dev/null || true)
xa_check "$stage" "build root (amd64 + arm64, cross toolchain, build dependencies)" pass \
    "${root_tar##*/}, gcc-aarch64-linux-gnu ${gcc_version:-unknown}"
xa_metric "$stage" root-seconds "$(($(xa_now) - t0))" s

# 3. The packages, cross-built.
mkdir -p "$root/build" "$XA_CACHE/ccache-arm64"
xa_source_copy "$root/build/src"
t0=$(xa_now)
if in_root env -C /build/src "${ccache_env[@]}" \
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -a arm64 -Pcross,nocheck -B -us -uc \
    >"$work/dpkg-buildpackage.log" 2>&1; then
    mkdir -p "$work/debs"
    rm -f "$work/debs"/*
    cp "$root"/build/*.deb "$root"/build/*.changes "$work/debs/"
    xa_check "$stage" "dpkg-buildpackage -a arm64 -Pcross,nocheck" pass \
        "$(find "$work/debs" -name '*.deb' -printf '%f ')"
else
    tail -n 30 "$work/dpkg-buildpackage.log" >&2
    fail "dpkg-buildpackage -a arm64 -Pcross,nocheck" "see $work/dpkg-buildpackage.log"
    exit 1
fi
xa_metric "$stage" cross-build-seconds "$(($(xa_now) - t0))" s
deb=$(compgen -G "$work/debs/xen-autoload_*_arm64.deb" | head -n 1)
rm -rf "$work/deb-x"
dpkg-deb -x "$deb" "$work/deb-x"
machine=$(readelf -h "$work/deb-x/usr/sbin/xen-autoload" 2>/dev/null | sed -n 's/^ *Machine: *//p')
if [ "$machine" = AArch64 ] && [ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ]; then
    xa_check "$stage" "the arm64 package holds an AArch64 xen-autoload" pass "$machine, $(basename "$deb")"
else
    fail "the arm64 package holds an AArch64 xen-autoload" "machine '${machine:-none}' in $deb"
fi
xa_lintian "$stage" "lintian (arm64 .debs)" "$work/lintian.log" "$(compgen -G "$work/debs/*.changes" | head -n 1)" ||
    status=1

# 7 (begun here). A Debian 12 arm64 system as an admin has it: the arm64 packages published
# as a signed apt repository ($work/repo, the CI archive key of ci/publish-repos.sh), an
# image made by mmdebstrap under qemu-user with xen-host and xen-autoload installed by apt
# from it (ci/stage-image.sh arm64, its checks image-arm64), in the background from here:
# it needs only the packages, and it is mostly one emulated dpkg at a time, beside steps 4
# to 6 (a minute saved). The stage waits for it before its boots, and before any exit.
image_pid='' image_t0=$(xa_now)
if "$here/publish-repos.sh" --apt "$work/debs" "$work/repo" >"$work/publish-repos.log" 2>&1; then
    xa_check "$stage" "arm64 apt repository published (signed)" pass "$work/repo"
    "$here/stage-image.sh" arm64 &
    image_pid=$!
else
    tail -n 20 "$work/publish-repos.log" >&2
    fail "arm64 apt repository published (signed)" "see $work/publish-repos.log"
fi
# shellcheck disable=SC2317 # the EXIT trap
wait_image() {
    local rc=0
    [ -z "$image_pid" ] || wait "$image_pid" || rc=$?
    image_pid=''
    return $rc
}
trap 'wait_image || true' EXIT

# 4. The tests, on the arm64 binaries under qemu-user.
t0=$(xa_now)
if in_root env "${ccache_env[@]}" /bin/bash -c '
    set -e
    cmake -S /build/src -B /build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DXA_WERROR=ON -DXA_FUZZ=OFF \
        -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
        -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DPKG_CONFIG_EXECUTABLE=/usr/bin/aarch64-linux-gnu-pkg-config
    ninja -C /build/test' >"$work/test-build.log" 2>&1; then
    xa_check "$stage" "the tree and its tests cross-built (-DXA_WERROR=ON)" pass "$work/test-build.log"
else
    tail -n 30 "$work/test-build.log" >&2
    fail "the tree and its tests cross-built (-DXA_WERROR=ON)" "see $work/test-build.log"
    exit 1
fi
xa_metric "$stage" test-build-seconds "$(($(xa_now) - t0))" s
left_out='boot\.shellcheck|boot\.initramfs'
# The module tree the tests read (tests/setup-module-tree.sh) is Debian's current amd64
# kernel, found through apt: fresh package lists, from the machine's name servers.
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root apt-get update -qq >"$work/apt-update.log" 2>&1 || fail "apt-get update in the build root" "see $work/apt-update.log"
in_root ctest --test-dir /build/test --show-only=json-v1 >"$work/tests.json"
jq -r --arg re "^($left_out)\$" '.tests[] | select((.name | test($re)) or
        ([.properties[]? | select(.name == "LABELS") | .value[]] | index("ci"))) | .name' \
    "$work/tests.json" >"$work/tests-left-out.txt"
xa_say "$stage: left out (architecture-independent, or amd64 images): $(tr '\n' ' ' <"$work/tests-left-out.txt")"
t0=$(xa_now)
set +e
in_root ctest --test-dir /build/test -LE '^ci$' -E "^($left_out)\$" --output-on-failure \
    --timeout 600 -j "$(nproc)" >"$work/ctest.log" 2>&1
rc=$?
set -e
summary=$(grep -E '^[0-9]+% tests passed' "$work/ctest.log" | tail -n 1)
if [ "$rc" = 0 ]; then
    xa_check "$stage" "the test suite on the arm64 binaries (qemu-user)" pass \
        "$summary; left out: $(wc -l <"$work/tests-left-out.txt") ($work/tests-left-out.txt)"
else
    grep -A 30 'The following tests FAILED' "$work/ctest.log" >&2 || tail -n 30 "$work/ctest.log" >&2
    fail "the test suite on the arm64 binaries (qemu-user)" "${summary:-no summary}: see $work/ctest.log"
fi
# A check a test could not make here says "skip: ..." in its output (CTest's LastTest.log
# keeps every test's): each is a SKIP line of the report, never a pass.
cp "$root/build/test/Testing/Temporary/LastTest.log" "$work/ctest-output.log" 2>/dev/null || true
while IFS= read -r line; do
    xa_check "$stage" "test suite on arm64: ${line#skip: }" skip "$work/ctest-output.log"
done < <(grep -a '^skip: ' "$work/ctest-output.log" 2>/dev/null | sort -u)
xa_metric "$stage" ctest-seconds "$(($(xa_now) - t0))" s
# 5. The arm64 package on Debian's arm64 kernel: its module tree (tests/setup-module-tree.sh
# with XA_KERNEL_ARCH=arm64) with the package's files over it, seen as Xen on Arm shows a
# dom0 (the device tree's hypervisor node, XENFEAT_dom0, guest type HVM; no
# /sys/hypervisor/version, so the version comes from the device tree), then as a native
# boot. The package's own binary, under qemu-user, must detect each and plan every module
# the shipped policy requires for dom0 as there to load, and nothing natively.
tree=/build/arm64-tree t=$root/build/arm64-tree/root
if kver=$(in_root env XA_KERNEL_ARCH=arm64 /build/src/tests/setup-module-tree.sh /build/arm64-tree \
    2>"$work/module-tree.log"); then
    dpkg-deb -x "$deb" "$t"
    cli=$tree/root/usr/sbin/xen-autoload
    in_root "$cli" detect --json --root "$tree/root" >"$work/detect-native.json" 2>&1 || true
    in_root "$cli" plan --json --root "$tree/root" >"$work/plan-native.json" 2>&1 || true
    mkdir -p "$t/sys/hypervisor/properties" "$t/proc/device-tree/hypervisor"
    echo xen >"$t/sys/hypervisor/type"
    printf '%08x\n' $((1 << 11)) >"$t/sys/hypervisor/properties/features"
    echo HVM >"$t/sys/hypervisor/guest_type"
    printf 'xen,xen-4.17\0xen,xen\0' >"$t/proc/device-tree/hypervisor/compatible"
    in_root "$cli" detect --json --root "$tree/root" >"$work/detect-dom0.json" 2>&1 || true
    in_root "$cli" plan --json --root "$tree/root" >"$work/plan-dom0.json" 2>&1 || true
    fields='[.hypervisor, .role, .guest_type, .xen_version] | map(. // "-") | join(" ")'
    got=$(jq -r "$fields" "$work/detect-dom0.json" 2>/dev/null)
    if [ "$got" = "xen dom0 HVM 4.17" ]; then
        xa_check "$stage" "arm64 binary: a dom0 on Xen on Arm detected (device tree)" pass "$got, kernel $kver"
    else
        fail "arm64 binary: a dom0 on Xen on Arm detected (device tree)" "'$got': see $work/detect-dom0.json"
    fi
    required=$(jq -r '[.modules[] | select(.optional | not)] | length' "$work/plan-dom0.json" 2>/dev/null)
    not_there=$(jq -r '[.modules[] | select((.optional | not) and (.action != "load" or .state != "loadable"))
        | "\(.requested) [\(.state)]"] | join(", ")' "$work/plan-dom0.json" 2>/dev/null)
    if [ "${required:-0}" -gt 0 ] && [ -z "$not_there" ] &&
        [ "$(jq -r .role "$work/plan-dom0.json")" = dom0 ]; then
        xa_check "$stage" "arm64 binary: every module the shipped policy requires for dom0 is in Debian's arm64 kernel" \
            pass "$required required, $kver: $(jq -r '[.modules[] | "\(.name)=\(.action)"] | join(" ")' "$work/plan-dom0.json")"
    else
        fail "arm64 binary: every module the shipped policy requires for dom0 is in Debian's arm64 kernel" \
            "${not_there:-none planned}: see $work/plan-dom0.json"
    fi
    got=$(jq -r "$fields" "$work/detect-native.json" 2>/dev/null)
    loads=$(jq -r '[.modules[]? | select(.action == "load")] | length' "$work/plan-native.json" 2>/dev/null)
    if [ "$got" = "none none - -" ] && [ "$loads" = 0 ]; then
        xa_check "$stage" "arm64 binary: the same kernel natively: no Xen, nothing to load" pass "$kver"
    else
        fail "arm64 binary: the same kernel natively: no Xen, nothing to load" \
            "detect '$got', $loads to load: see $work/detect-native.json, $work/plan-native.json"
    fi
    # check-kernel on the same kernel's config (/boot/config-KVER of its package): the
    # roles of Xen on Arm work, the x86 guest types are not roles there.
    kernel_deb=$(compgen -G "$XA_CACHE/debs/linux-image-${kver}_*_arm64.deb" | sort -V | tail -n 1)
    dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$t" "./boot/config-$kver" "./boot/vmlinuz-$kver"
    in_root "$cli" check-kernel --json --config "$tree/root/boot/config-$kver" >"$work/check-kernel.json" 2>&1 || true
    verdicts=$(jq -r '.arch + ": " + ([.roles | to_entries[] |
        "\(.key)=\(if .value.applies then (if .value.works then "works" else "CANNOT" end) else "n/a" end)"]
        | join(" "))' "$work/check-kernel.json" 2>/dev/null)
    want="arm64: native=works dom0=works domU=works domU-pv=n/a domU-pvh=n/a domU-hvm=n/a domU-arm=works driver-domain=works"
    if [ "$verdicts" = "$want" ]; then
        xa_check "$stage" "arm64 binary: check-kernel on Debian's arm64 config: Arm's roles" pass "$verdicts"
    else
        fail "arm64 binary: check-kernel on Debian's arm64 config: Arm's roles" \
            "'${verdicts:-no verdict}', want '$want': see $work/check-kernel.json"
    fi
else
    fail "Debian's arm64 module tree" "see $work/module-tree.log"
fi
# 6. Booted: Xen 4.17 (Debian's xen-hypervisor-4.17-arm64) with Debian's arm64 kernel as
# dom0, on qemu-system-aarch64 (TCG, virt with EL2, GICv3, cortex-a57; Xen from -kernel,
# the dom0's kernel and initramfs from QEMU's guest-loader device, as Xen's own CI boots
# Arm), then the same kernel natively. The initramfs (ci/arm64/make-initramfs.sh) runs the
# arm64 package's xen-autoload on the live system: detect, load, status, and captures the
# system's fixture root (ci/arm64/init: "XA-..." lines on the console): the package's
# binary alone, without systemd or udev (step 7 boots the whole system).
boot_dir=$work/boot
rm -rf "$boot_dir"
mkdir -p "$boot_dir/debs" "$boot_dir/x"
# boot ARGS...: qemu-system-aarch64 with a deadline; NAME.console.log and NAME.seconds.
boot() {
    local name=$1 t
    shift
    t=$(xa_now)
    timeout --kill-after=10 300 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
        -cpu cortex-a57 -m 2048 -smp 2 -display none -monitor none -no-reboot -nic none \
        -serial "file:$boot_dir/$name.console.log" "$@" </dev/null >"$boot_dir/$name.qemu.log" 2>&1 || true
    echo "$(($(xa_now) - t))" >"$boot_dir/$name.seconds"
    xa_metric "$stage" "$name-seconds" "$(cat "$boot_dir/$name.seconds")" "s of QEMU"
}
# result NAME KEY: the value of the console's "XA-RESULT KEY=" line.
result() { tr -d '\r' <"$boot_dir/$1.console.log" | sed -n "s/^XA-RESULT $2=//p" | head -n 1; }
# fixture NAME: the captured fixture root, decoded into $boot_dir/NAME.fixture/.
fixture() {
    mkdir -p "$boot_dir/$1.fixture"
    tr -d '\r' <"$boot_dir/$1.console.log" | sed -n '/^XA-FIXTURE-BEGIN$/,/^XA-FIXTURE-END$/p' |
        sed '1d;$d' | base64 -d | tar -xzf - -C "$boot_dir/$1.fixture"
}
if [ -n "${kver:-}" ] &&
    in_root sh -c "cd /build && apt-get download -qq xen-hypervisor-4.17-arm64:arm64 busybox-static:arm64 \
        bash:arm64 libtinfo6:arm64" >"$boot_dir/download.log" 2>&1 &&
    mv "$root"/build/*_arm64.deb "$boot_dir/debs/" &&
    dpkg-deb -x "$(compgen -G "$boot_dir/debs/xen-hypervisor-4.17-arm64_*.deb")" "$boot_dir/x" &&
    "$here/arm64/make-initramfs.sh" "$root" "$t" "$kver" "$boot_dir/debs" "$boot_dir/initrd.img" \
        >"$boot_dir/initramfs.log" 2>&1; then
    xen=$(compgen -G "$boot_dir/x/boot/xen-*-arm64" | head -n 1)  # not .efi, not .config
    vmlinuz=$t/boot/vmlinuz-$kver  # step 5 took it from the kernel's package
    boot dom0 -kernel "$xen" \
        -append "dom0_mem=512M loglvl=all guest_loglvl=all console=dtuart dtuart=/pl011@9000000" \
        -device "guest-loader,addr=0x49000000,kernel=$vmlinuz,bootargs=console=hvc0 earlycon=xen rdinit=/init panic=5" \
        -device "guest-loader,addr=0x50000000,initrd=$boot_dir/initrd.img"
    boot native -kernel "$vmlinuz" -initrd "$boot_dir/initrd.img" -append "console=ttyAMA0 rdinit=/init panic=5"
    fields='[.hypervisor, .role, .guest_type, .xen_version] | map(. // "-") | join(" ")'
    for b in dom0 native; do
        # dom0: the version from /sys/hypervisor (4.17.N); natively: nothing.
        want='^none none - -$'
        [ "$b" = native ] || want='^xen dom0 HVM 4\.17\.[0-9]+$'
        live=$(result "$b" detect | jq -r "$fields" 2>/dev/null)
        if [[ $live =~ $want ]]; then
            xa_check "$stage" "boot $b: xen-autoload detect on the live system" pass \
                "$live ($(cat "$boot_dir/$b.seconds") s of QEMU)"
        else
            fail "boot $b: xen-autoload detect on the live system" \
                "'${live:-no answer}': see $boot_dir/$b.console.log"
        fi
        loaded=$(result "$b" modules)
        if [ "$b" = dom0 ]; then
            missing=''
            for m in xen_evtchn xen_gntdev xen_gntalloc xen_privcmd xenfs xen_blkback xen_netback; do
                [[ " $loaded " == *" $m "* ]] || missing+=" $m"
            done
            detail="load exit $(result dom0 load-rc), status exit $(result dom0 status-rc), missing:${missing:- none}"
            if [ -z "$missing" ] && [ "$(result dom0 load-rc)" = 0 ] && [ "$(result dom0 status-rc)" = 0 ]; then
                xa_check "$stage" "boot dom0: load and status: every module the policy requires is loaded" pass "$detail"
            else
                fail "boot dom0: load and status: every module the policy requires is loaded" "$detail"
            fi
        else
            detail="load exit $(result native load-rc), status exit $(result native status-rc), modules: ${loaded:-none}"
            if [ "$(result native load-rc)" = 0 ] && [ "$(result native status-rc)" = 0 ] &&
                [[ " $loaded " != *" xen"* ]]; then
                xa_check "$stage" "boot native: nothing loaded, status 0" pass "$detail"
            else
                fail "boot native: nothing loaded, status 0" "$detail"
            fi
        fi
        # The captured fixture root must give detect --root the live answer.
        rm -rf "${root:?}/build/fixture-$b"
        if fixture "$b" 2>/dev/null && cp -a "$boot_dir/$b.fixture" "$root/build/fixture-$b" &&
            got=$(in_root "$cli" detect --json --root "/build/fixture-$b" | jq -r "$fields") &&
            [ "$got" = "$live" ] && [ -n "$live" ]; then
            xa_check "$stage" "boot $b: its captured fixture root gives detect its live answer" pass \
                "$boot_dir/$b.fixture"
        else
            fail "boot $b: its captured fixture root gives detect its live answer" \
                "'${got:-none}' against '${live:-none}': see $boot_dir/$b.console.log"
        fi
    done
else
    fail "boot: Xen and Debian's arm64 kernel with the package's initramfs" \
        "see $boot_dir/download.log, $boot_dir/initramfs.log"
fi

# 7. The arm64 image (begun before step 4), booted on qemu-system-aarch64 under Xen and
# natively by stage boot, which asserts what it asserts of the amd64 image: the unit, udev,
# the modules before any guest, status, a guest with a vif and a vbd Connected, no failed
# unit. image-seconds: from the repository's publication to the image, beside steps 4-6.
if [ -n "$image_pid" ]; then
    wait_image || status=1
    xa_metric "$stage" image-seconds "$(($(xa_now) - image_t0))" s
    t0=$(xa_now)
    XA_BOOT_DIR=$work/boot-image "$here/stage-boot.sh" dom0-arm64 native-arm64 || status=1
    xa_metric "$stage" image-boots-seconds "$(($(xa_now) - t0))" s
fi
xa_metric "$stage" stage-seconds "$(($(xa_now) - start))" s
exit $status
