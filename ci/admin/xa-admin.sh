#!/bin/bash
# In-image script of stage admin (ci/stage-admin.sh), run by xa-admin.service at every boot
# of the admin's disk. The disk remembers where it is (/var/lib/xa-admin/phase), as an
# admin's machine would; each boot does one step of the admin's path, then powers off:
#   install    boot 1, native (the stock Debian entry): mount the repository disk, add our
#              repository (deb822 .sources with a file: URI, key in /etc/apt/keyrings),
#              apt-get install -y xen-host; check the maintainer scripts and triggers ran
#              (initramfs with our hook, grub.cfg with Xen as default)       -> installed
#   installed  boot 2, GRUB's default entry, which must now be Xen: the dom0 checks of
#              stage boot, then apt-get upgrade to the newer build with the daemon running,
#              then apt-get purge xen-autoload xen-host (Xen stays)           -> purged
#   purged     boot 3: Xen still boots, no file of ours left (against the file list taken
#              before the install, as piuparts does), no failed unit, no error -> done
# The repository disk (LABEL=xa-repo, read-only) holds repo/ (flat, signed), guest/ (the PV
# test guest) and expect.env (V1=, V2=, V2_UPSTREAM=: the versions the host published;
# APT_INSTALL_OPTS=; INSTALL_WITH_BROKEN_POLICY=1: boot 1 installs over a policy typo first).
# Results follow ci/boot/xa-check.sh: one JSON line per check/metric in $out/results.jsonl
# and a marker on the console ("XA-CHECK pass|fail NAME -- DETAIL", "XA-METRIC ..."), $out
# as a tar archive on the raw result disk /dev/vdb, "XA-DONE phase=PHASE" last.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_COLORS=0 SYSTEMD_PAGER='' DEBIAN_FRONTEND=noninteractive

out=/run/xa-admin
lib=/var/lib/xa-admin
result_disk=/dev/vdb
own_unit=xa-admin.service
# the PV test guest (from the repository disk, guest/: stage boot's xl config template)
guest_cfg=$lib/xa-guest.cfg
repo_mnt=/srv/xa-repo
sources=/etc/apt/sources.list.d/xen-autoload.sources
keyring=/etc/apt/keyrings/xen-autoload-archive.gpg
mkdir -p "$out" "$lib"
: >"$out/results.jsonl"
phase=$(cat "$lib/phase" 2>/dev/null || echo install)
# shellcheck source-path=SCRIPTDIR source=../boot/xa-lib.sh
. /usr/local/lib/xa-admin/xa-lib

finish() {
    local checks fails
    checks=$(jq -s '[.[] | select(.kind=="check")] | length' "$out/results.jsonl")
    fails=$(jq -s '[.[] | select(.kind=="check" and .result!="pass")] | length' "$out/results.jsonl")
    journalctl -b -o short-monotonic --no-pager >"$out/journal.txt" 2>&1
    dmesg >"$out/dmesg.txt" 2>&1
    [ ! -e /proc/xen/capabilities ] || timeout 30 xl dmesg >"$out/xl-dmesg.txt" 2>&1
    save_results || say "XA-ERROR could not write the result disk $result_disk"
    say "XA-DONE phase=$phase next=$(cat "$lib/phase" 2>/dev/null) checks=$checks fails=$fails"
}

# Debian's kernel (the one linux-image-amd64 depends on) and its initramfs.
kernel_release() {
    dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | sed -n 's/^linux-image-\([^ ,|]*\).*/\1/p'
}
# (Into a file first: with pipefail, grep -q ending the pipe early would fail lsinitramfs.)
# shellcheck disable=SC2317 # called through pass_if/eval
initrd_has_ours() {
    lsinitramfs "/boot/initrd.img-$(kernel_release)" >"$out/lsinitramfs-now.txt" 2>&1
    grep -qx 'usr/sbin/xen-autoload' "$out/lsinitramfs-now.txt"
}
installed_version() {
    dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^installed //p'
}
# The repository disk, read-only, where our .sources file points.
mount_repo() {
    udevadm settle --timeout=30 || true
    mkdir -p "$repo_mnt"
    mountpoint -q "$repo_mnt" && umount "$repo_mnt"
    if mount -o ro LABEL=xa-repo "$repo_mnt" && [ -f "$repo_mnt/expect.env" ]; then
        # shellcheck disable=SC1091 # written by the host (stage admin)
        . "$repo_mnt/expect.env"
        check "repository disk mounted" pass "$(grep -c '^Package:' "$repo_mnt/repo/Packages") packages, V1=${V1:-} V2=${V2:-none}"
    else
        check "repository disk mounted" fail "no LABEL=xa-repo with expect.env"
        return 1
    fi
}
apt_update() {
    local log=$out/apt-update-$1.txt
    # The Debian sources of the installed system are unreachable (the VM has no network):
    # apt warns about them and reads our repository.
    apt-get update >"$log" 2>&1
    local rc=$?
    apt-cache madison xen-host >"$out/apt-madison-$1.txt" 2>&1
    grep -q "file:$repo_mnt/repo" "$out/apt-madison-$1.txt" &&
        ! grep -qE 'NO_PUBKEY|is not signed|InRelease.*not valid' "$log"
    verdict $? "apt-get update ($1) read our signed repository" \
        "exit $rc, $(grep -cE '^(W|E):' "$log") W/E lines"
}
# The admin who added the .sources file but not our key: apt must refuse the repository at
# `apt-get update`, naming it, and install nothing from it (xen-host stays unknown).
unsigned_repo_refused() {
    local log=$out/apt-update-without-key.txt rc refused
    apt-get update >"$log" 2>&1
    rc=$?
    refused=$(grep -E '^(E|W): .*file:'"$repo_mnt"'/repo' "$log" | head -n 2 | cut -c1-160 | tr '\n' ' ')
    apt-get install -s xen-host >"$out/apt-install-without-key.txt" 2>&1
    local irc=$?
    [ -n "$refused" ] && [ "$irc" != 0 ] && [ -z "$(installed_version xen-autoload)" ]
    verdict $? "without our key: apt-get update refuses our repository, xen-host not installable" \
        "update exit $rc: ${refused:-no E/W line naming file:$repo_mnt/repo}; install -s exit $irc"
}
# A failed postinst, the admin's way: a policy drop-in with a typo is in place before the
# install (config management, or a copy from another host). The initramfs trigger then fails
# in our hook, and apt must say which file and what to run; after the fix, the command it
# names completes the installation.
install_with_broken_policy() {
    local typo=/etc/xen-autoload/zz-typo.conf rc
    mkdir -p /etc/xen-autoload
    echo 'requir dom0 xen-netback' >"$typo"
    # shellcheck disable=SC2086 # APT_INSTALL_OPTS: options, from expect.env
    apt-get install -y ${APT_INSTALL_OPTS:-} xen-host >"$out/apt-install.txt" 2>&1
    rc=$?
    [ "$rc" != 0 ] && grep -q "$typo" "$out/apt-install.txt" &&
        grep -q "then run 'update-initramfs -u -k .*'dpkg --configure -a'" "$out/apt-install.txt"
    verdict $? "a policy typo fails the install at the initramfs trigger, naming the file and what to run" \
        "exit $rc: $(grep -m1 -F "$typo" "$out/apt-install.txt" | cut -c1-160)"
    rm -f "$typo"
    dpkg --configure -a >"$out/dpkg-configure-a.txt" 2>&1
    rc=$?
    pass_if "after the fix, 'dpkg --configure -a' completes the installation" \
        "exit $rc, $(grep -c 'update-initramfs: Generating' "$out/dpkg-configure-a.txt") initramfs rebuilt" [ "$rc" = 0 ]
}
# A file list of the system, for piuparts' comparison (volatile and our own state left out).
file_list() {
    find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
        -o -path /var/tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/apt/lists \
        -o -path "$lib" -o -path /srv \) -prune -o -print 2>/dev/null | sort
}
# The PV test guest: its initramfs and xl config from the repository disk (guest/), the
# config's @KVER@ and @LIB@ filled in; the guest boots this dom0's own kernel.
guest_prepare() {
    local k=$1
    cp "$repo_mnt/guest/guest-initrd-$k.img" "$lib/" 2>/dev/null &&
        sed -e "s/@KVER@/$k/g" -e "s|@LIB@|$lib|g" "$repo_mnt/guest/xa-guest.cfg.in" >"$guest_cfg"
    verdict $? "PV test guest for kernel $k from the repository disk" "$guest_cfg"
}
# The boot went through GRUB's Xen entry: Xen is there and the dom0 line is 20_linux_xen's.
check_xen_booted() {
    local hv
    hv=$(cat /sys/hypervisor/type 2>/dev/null)
    [ "$hv" = xen ] && grep -q 'console=hvc0' /proc/cmdline
    verdict $? "booted Xen (GRUB's default entry)" "hypervisor '${hv:-none}', cmdline: $(cut -c1-120 /proc/cmdline)"
    timeout 60 xl info >"$out/xl-info.txt" 2>&1
    pass_if "xl info answers" "$(grep -E '^xen_version' "$out/xl-info.txt" | tr -s ' ')" \
        grep -q '^xen_version' "$out/xl-info.txt"
}
phase_install() {
    local hv t0 rc kver
    hv=$(cat /sys/hypervisor/type 2>/dev/null)
    pass_if "boot 1 is native (no hypervisor)" "${hv:-none}" [ -z "$hv" ]
    file_list >"$lib/files-before.txt"
    metric files-before "$(wc -l <"$lib/files-before.txt")" files
    mount_repo || return
    # What the admin types: the .sources file, the key, update, install.
    cat >"$sources" <<EOF
Types: deb
URIs: file:$repo_mnt/repo
Suites: ./
Signed-By: $keyring
EOF
    unsigned_repo_refused
    install -D -m 0644 "$repo_mnt/repo/xen-autoload-archive.gpg" "$keyring"
    apt_update v1
    apt-cache policy xen-host xen-autoload >"$out/apt-policy-v1.txt" 2>&1
    t0=$(date +%s)
    if [ "${INSTALL_WITH_BROKEN_POLICY:-0}" = 1 ]; then
        install_with_broken_policy
    else
        # shellcheck disable=SC2086 # APT_INSTALL_OPTS: options, from expect.env
        apt-get install -y ${APT_INSTALL_OPTS:-} xen-host >"$out/apt-install.txt" 2>&1
        rc=$?
        pass_if "apt-get install -y ${APT_INSTALL_OPTS:-}${APT_INSTALL_OPTS:+ }xen-host" "exit $rc, $(grep -m1 'newly installed' "$out/apt-install.txt")" [ "$rc" = 0 ]
    fi
    metric apt-install-xen-host-s $(($(date +%s) - t0)) s
    metric apt-install-packages "$(grep -c '^Setting up ' "$out/apt-install.txt")" packages
    local v
    for p in xen-host xen-autoload; do
        v=$(installed_version "$p")
        pass_if "$p $V1 installed" "${v:-not installed}" [ "$v" = "$V1" ]
    done
    dpkg --audit >"$out/dpkg-audit.txt" 2>&1
    pass_if "maintainer scripts and triggers completed (dpkg --audit empty)" \
        "$(head -n 3 "$out/dpkg-audit.txt" | tr '\n' ' ')" [ ! -s "$out/dpkg-audit.txt" ]
    kver=$(kernel_release)
    pass_if "initramfs rebuilt during the install" "/boot/initrd.img-$kver" \
        [ "$(stat -c %Y "/boot/initrd.img-$kver" 2>/dev/null || echo 0)" -ge "$t0" ]
    lsinitramfs "/boot/initrd.img-$kver" >"$out/lsinitramfs-installed.txt" 2>&1
    grep -qx 'usr/sbin/xen-autoload' "$out/lsinitramfs-installed.txt" &&
        grep -q 'scripts/init-top/00-xen-autoload' "$out/lsinitramfs-installed.txt"
    verdict $? "initramfs holds our hook (usr/sbin/xen-autoload, init-top/00-xen-autoload)" "$kver"
    local cfg=/boot/grub/grub.cfg
    cp "$cfg" "$out/grub-installed.cfg"
    grep -qE "^[[:space:]]*multiboot2?[[:space:]]+.*/xen-[^ ]+ .*dom0_mem=1024M" "$cfg" &&
        grep -qE "^[[:space:]]*module2?[[:space:]]+.*/vmlinuz-$kver .*console=hvc0" "$cfg"
    verdict $? "grub.cfg has Xen entries (multiboot2 xen, dom0 console=hvc0, dom0_mem)" \
        "$(grep -c "menuentry '.*with Xen hypervisor" "$cfg") Xen menu entries"
    pass_if "GRUB's default entry is Xen (xen-hypervisor-common's grub.d/xen.cfg)" \
        "$(grep -m1 -E '^[[:space:]]*set default="[^$]' "$cfg")" grep -qE '^[[:space:]]*set default="Debian GNU/Linux, with Xen hypervisor"' "$cfg"
    local st
    st=$(unit_state)
    systemctl -q is-enabled xen-autoload.service && grep -q 'ConditionResult=no' <<<"$st"
    verdict $? "xen-autoload.service enabled, skipped on a native boot" \
        "$(systemctl is-enabled xen-autoload.service 2>&1); $st"
    check_clean
    echo installed >"$lib/phase"
}

phase_installed() {
    check_xen_booted
    dom0_checks
    save_results
    mount_repo || return
    guest_prepare "$(uname -r)"
    run_guest ''
    save_results
    upgrade
    save_results
    run_guest 'after the upgrade: '
    check_clean
    save_results
    purge
}

upgrade() {
    local pid0 ts0 ver0 pid1 ts1 ver1 t0 rc exe
    apt_update v2
    apt-cache policy xen-host xen-autoload >"$out/apt-policy-v2.txt" 2>&1
    pid0=$(unit_prop MainPID) ts0=$(unit_prop ExecMainStartTimestamp)
    ver0=$(xen-autoload --version 2>&1)
    cp /proc/modules "$out/modules-before-upgrade.txt"
    # Any module unloaded during the upgrade shows up as a "remove" uevent of subsystem module.
    udevadm monitor --kernel --subsystem-match=module >"$out/uevents-upgrade.txt" 2>&1 &
    local mon=$!
    sleep 1
    t0=$(date +%s)
    apt-get upgrade -y >"$out/apt-upgrade.txt" 2>&1
    rc=$?
    metric apt-upgrade-s $(($(date +%s) - t0)) s
    sleep 2
    kill "$mon" 2>/dev/null
    wait "$mon" 2>/dev/null
    pass_if "apt-get upgrade -y with the daemon running" "exit $rc, $(grep -m1 'upgraded,' "$out/apt-upgrade.txt")" [ "$rc" = 0 ]
    local p v
    for p in xen-host xen-autoload; do
        v=$(installed_version "$p")
        pass_if "$p upgraded to $V2" "${v:-not installed}" [ "$v" = "$V2" ]
    done
    pid1=$(unit_prop MainPID) ts1=$(unit_prop ExecMainStartTimestamp)
    ver1=$(xen-autoload --version 2>&1)
    [ "$pid1" != 0 ] && [ "$pid1" != "$pid0" ] && [ "$ts1" != "$ts0" ] && [ "$(unit_prop ActiveState)" = active ]
    verdict $? "xen-autoload.service restarted by the package (new MainPID and ExecMainStartTimestamp)" \
        "pid $pid0 -> $pid1, '$ts0' -> '$ts1', $(unit_prop ActiveState)"
    exe=$(readlink "/proc/$pid1/exe" 2>/dev/null)
    [ "$ver1" = "xen-autoload ${V2_UPSTREAM:-}" ] && [ "$exe" = /usr/sbin/xen-autoload ]
    verdict $? "the new build is what runs (--version, /proc/PID/exe)" "'$ver0' -> '$ver1', exe $exe"
    grep -E 'remove' "$out/uevents-upgrade.txt" >"$out/uevents-remove.txt"
    cp /proc/modules "$out/modules-after-upgrade.txt"
    local gone m
    gone=$(for m in "${dom0_modules[@]}"; do grep -q "^$m " "$out/modules-after-upgrade.txt" || echo "$m"; done | tr '\n' ' ')
    [ ! -s "$out/uevents-remove.txt" ] && [ -z "$gone" ]
    verdict $? "no backend unloaded during the upgrade (no module remove uevent)" \
        "$(head -n 2 "$out/uevents-remove.txt" | tr '\n' ' ')${gone:+ gone: $gone}"
    journalctl -p err --since "@$t0" -o short-monotonic --no-pager >"$out/journal-err-upgrade.txt" 2>&1
    grep -v '^-- ' "$out/journal-err-upgrade.txt" >"$out/journal-err-upgrade.lines" || true
    pass_if "nothing at error level in the journal during the upgrade" \
        "$(head -n 2 "$out/journal-err-upgrade.lines" | cut -c1-200 | tr '\n' ' ')" [ ! -s "$out/journal-err-upgrade.lines" ]
    pass_if "initramfs holds our hook after the upgrade" "" initrd_has_ours
}

purge() {
    local t0 rc p
    dpkg-query -L xen-autoload xen-host >"$lib/owned-files.txt" 2>/dev/null
    metric owned-files "$(wc -l <"$lib/owned-files.txt")" paths
    t0=$(date +%s)
    apt-get purge -y xen-autoload xen-host >"$out/apt-purge.txt" 2>&1
    rc=$?
    metric apt-purge-s $(($(date +%s) - t0)) s
    pass_if "apt-get purge -y xen-autoload xen-host" "exit $rc, $(grep -m1 'to remove' "$out/apt-purge.txt")" [ "$rc" = 0 ]
    local left=
    for p in xen-autoload xen-host; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$' && left+="$p "
    done
    pass_if "xen-autoload and xen-host purged (dpkg knows neither)" "${left:-both gone}" [ -z "$left" ]
    pass_if "Xen stays installed" "$(dpkg-query -W xen-system-amd64 2>&1 | tr '\t' ' ')" \
        [ -n "$(installed_version xen-system-amd64)" ]
    pass_if "GRUB's default entry is still Xen" "$(grep -m1 -E '^[[:space:]]*set default="[^$]' /boot/grub/grub.cfg)" \
        grep -qE '^[[:space:]]*set default="Debian GNU/Linux, with Xen hypervisor"' /boot/grub/grub.cfg
    echo purged >"$lib/phase"
}

phase_purged() {
    check_xen_booted
    local leftovers f
    # 1. Every path the two packages owned (dpkg -L before the purge) is gone, unless it
    # existed before the install (shared directories: /etc, /usr/sbin...).
    : >"$out/leftovers.txt"
    while IFS= read -r f; do
        [ "$f" != /. ] || continue                 # dpkg -L lists the root as "/."
        [ -e "$f" ] || [ -L "$f" ] || continue
        grep -qxF "$f" "$lib/files-before.txt" && continue
        # A directory that Xen's packages (installed with ours) also use is theirs now.
        if [ -d "$f" ] && [ ! -L "$f" ] && dpkg-query -S "$f" >/dev/null 2>&1; then continue; fi
        echo "$f" >>"$out/leftovers.txt"
    done <"$lib/owned-files.txt"
    # 2. Anything else named after us that the install created (maintainer scripts, deb-
    # systemd-helper state, dpkg's info files, policy dirs), except the admin's own
    # .sources file and keyring.
    file_list >"$out/files-after.txt"
    comm -13 "$lib/files-before.txt" "$out/files-after.txt" >"$out/files-new.txt"
    grep -E 'xen-autoload|xen_autoload' "$out/files-new.txt" |
        grep -vxF -e "$sources" -e "$keyring" >>"$out/leftovers.txt"
    leftovers=$(sort -u "$out/leftovers.txt" | tr '\n' ' ')
    pass_if "no xen-autoload file left after the purge (piuparts-style file lists)" "${leftovers:-none}" [ -z "$leftovers" ]
    metric files-new-after-purge "$(wc -l <"$out/files-new.txt")" "files (Xen and its dependencies)"
    pass_if "initramfs no longer holds our hook" "/boot/initrd.img-$(kernel_release)" eval '! initrd_has_ours'
    pass_if "no xen-autoload.service unit left" "LoadState=$(unit_prop LoadState)" [ "$(unit_prop LoadState)" = not-found ]
    local st
    st=$(find /etc/systemd /lib/systemd /usr/lib/systemd -name '*xen-autoload*' 2>/dev/null | tr '\n' ' ')
    pass_if "no unit symlink of ours left" "${st:-none}" [ -z "$st" ]
    # User space only: the kernel logs the emulated machine's quirks at error level in every
    # boot under QEMU ("parport_pc ...: Unable to set coherent dma mask"), ours or not.
    journalctl -b -p err -o short-monotonic --no-pager _TRANSPORT=journal + _TRANSPORT=syslog + \
        _TRANSPORT=stdout >"$out/journal-err.txt" 2>&1
    grep -v '^-- ' "$out/journal-err.txt" >"$out/journal-err.lines" || true
    metric journal-err-lines "$(wc -l <"$out/journal-err.lines")" lines
    pass_if "nothing at error level from user space in the journal" "$(head -n 2 "$out/journal-err.lines" | cut -c1-200 | tr '\n' ' ')" \
        [ ! -s "$out/journal-err.lines" ]
    check_clean
    echo 'done' >"$lib/phase"
}

say "XA-START phase=$phase uptime=$(cut -d' ' -f1 /proc/uptime)"
metric checks-start-uptime-s "$(cut -d' ' -f1 /proc/uptime)" s
uname -a >"$out/uname.txt"
cat /proc/cmdline >"$out/cmdline.txt"
# Our unit (when installed) and udev's coldplug settle first; every wait has a deadline.
wait_settled
case $phase in
    install) phase_install ;;
    installed) phase_installed ;;
    purged) phase_purged ;;
    *) check "known phase" fail "'$phase'" ;;
esac
dpkg-query -W xen-autoload xen-host xen-system-amd64 >"$out/packages.txt" 2>&1
# dpkg's own log, one line per unpack, configure and trigger with its time: where the
# install, upgrade and purge spend their minutes under TCG.
cp /var/log/dpkg.log "$out/dpkg.log" 2>/dev/null || true
finish
exit 0
