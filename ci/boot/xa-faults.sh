# shellcheck shell=bash
# shellcheck disable=SC2154 # out, lib, guest_cfg: set by xa-check
# Phase "faults" of a dom0 boot (xa.phase=faults), after the dom0 checks, their guest and
# the clean-boot checks (its faults log errors on purpose). On the running dom0, as an admin
# or a broken upgrade would leave it:
#  - the daemon killed with SIGKILL: systemd restarts it (Restart=on-abnormal), and the
#    restarted daemon handles the backend devices of a guest created while it was down
#    (coldplug), each exactly once. A runtime drop-in holds the restart in ExecStartPre until
#    the guest's devices exist (a handshake with a deadline, not a sleep);
#  - then, one at a time, with xen_netback unloaded so that it must be loaded again:
#    its module file deleted from the tree, a corrupt modules.dep.bin, libkmod missing, and
#    /run/modprobe.d read-only with a deny rule in force. For each: the unit's restart ends
#    (no hang), the journal says what is wrong, naming it, `xen-autoload status` exits 1
#    naming it; then the fault is repaired and the unit loads xen_netback again.
# Sourced by xa-check; uses check/metric/pass_if/verdict/unit_prop/journal_cursor/
# daemon_handled_once/backend_devices/shutdown_check and $out, $guest_cfg from it.
: "${out:?sourced by xa-check}"

faults_dropin=/run/systemd/system/xen-autoload.service.d/xa-faults.conf
faults_go=/run/xa-faults-go

# restart_unit: restart our unit, bounded; prints "exit RC, ActiveState/Result".
restart_unit() {
    local rc=0
    timeout 150 systemctl restart xen-autoload.service >/dev/null 2>&1 || rc=$?
    echo "restart exit $rc, $(unit_prop ActiveState)/$(unit_prop Result)"
}

# unit_ended: the unit is active or failed, not stuck starting or stopping.
unit_ended() { case $(unit_prop ActiveState) in active | failed) return 0 ;; esac; return 1; }

# faults_sigkill: kill the daemon, create a guest while systemd's restart waits in the
# drop-in's ExecStartPre, let it go once the guest's backend devices exist.
faults_sigkill() {
    local name="faults: SIGKILL" old_pid restarts cursor deadline domid devs wrong
    mkdir -p "${faults_dropin%/*}"
    rm -f "$faults_go"
    # shellcheck disable=SC2016 # expanded by the unit's shell, not here
    printf '%s\n' '[Service]' \
        "ExecStartPre=/bin/sh -c 'i=0; while [ ! -e $faults_go ] && [ \$i -lt 1200 ]; do sleep 0.1; i=\$((i + 1)); done'" \
        'TimeoutStartSec=180' >"$faults_dropin"
    systemctl daemon-reload
    old_pid=$(unit_prop MainPID)
    restarts=$(unit_prop NRestarts)
    cursor=$(journal_cursor)
    systemctl kill -s KILL xen-autoload.service
    # Restart=on-abnormal after RestartSec=2s: the unit is activating (in ExecStartPre) with
    # one more restart counted.
    deadline=$((SECONDS + 60))
    while [ "$(unit_prop NRestarts)" = "$restarts" ] || [ "$(unit_prop ActiveState)" != activating ]; do
        [ $SECONDS -lt $deadline ] || break
        sleep 1
    done
    pass_if "$name: systemd restarts the daemon" \
        "NRestarts $restarts -> $(unit_prop NRestarts), $(unit_prop ActiveState)/$(unit_prop SubState)" \
        [ "$(unit_prop NRestarts)" -gt "${restarts:-0}" ]

    # The guest, while no daemon runs. Its backend devices exist once xl create returns.
    guest_setup >/dev/null
    timeout 180 xl create "$guest_cfg" >"$out/faults-xl-create.txt" 2>&1
    domid=$(timeout 30 xl domid xa-guest 2>/dev/null)
    devs=$(backend_devices "^(vif|vbd)-${domid:-none}-[0-9]+$")
    printf '%s\n' "$devs" >"$out/faults-backend-devices.txt"
    touch "$faults_go"
    deadline=$((SECONDS + 120))
    while [ "$(unit_prop ActiveState)" = activating ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
    wrong=$(daemon_handled_once "$cursor" "$devs" "$out/faults-daemon-device-counts.txt")
    [ "$(unit_prop ActiveState)" = active ] && [ "$(unit_prop MainPID)" != "$old_pid" ]
    verdict $? "$name: the restarted daemon is active (a new process)" \
        "pid $old_pid -> $(unit_prop MainPID), $(unit_prop ActiveState)"
    [ -n "$devs" ] && [ -z "$wrong" ]
    verdict $? "$name: the restarted daemon handled the devices of a guest created while it was down, once each" \
        "${wrong:-$(tr '\n' ' ' <<<"$devs")}"

    rm -f "$faults_dropin" "$faults_go"
    systemctl daemon-reload
    shutdown_check xa-guest "$out/faults-xl-shutdown.txt" "$name: the guest shut down (xl shutdown -w)"
}

# fault_case NAME WHAT SETUP REPAIR: with xen_netback unloaded, SETUP breaks something; the
# restarted unit must end, the journal (warning or worse, ours) and `status` (exit 1) must
# name WHAT; REPAIR restores it and the unit must load xen_netback again.
fault_case() {
    local name="faults: $1" what=$2 setup=$3 repair=$4 cursor how rc lines f
    f=$(tr -c 'a-z0-9.\n' '-' <<<"${1#/}")
    modprobe -r xen_netback 2>/dev/null
    pass_if "$name: xen_netback unloaded first" "" not_loaded xen_netback /proc/modules
    cursor=$(journal_cursor)
    "$setup"
    how=$(restart_unit)
    pass_if "$name: the unit's restart ended (no hang)" "$how" unit_ended
    xen-autoload status >"$out/faults-$f-status.txt" 2>&1
    rc=$?
    "$repair"
    # Only now: journalctl itself needs libkmod (Debian 12's libsystemd-shared links it).
    [ "$rc" = 1 ] && grep -qF -- "$what" "$out/faults-$f-status.txt"
    verdict $? "$name: xen-autoload status exits 1 and names $what" \
        "exit $rc: $(grep -m1 -F -- "$what" "$out/faults-$f-status.txt" | cut -c1-200)"
    # Every line of ours since the cursor (kept), then those at warning or worse.
    our_journal_since "$cursor" >"$out/faults-$f-journal.json" 2>&1
    jq -r 'select((.PRIORITY // "6" | tonumber) <= 4) | .MESSAGE' "$out/faults-$f-journal.json" \
        >"$out/faults-$f-journal.txt" 2>&1
    lines=$(grep -c . "$out/faults-$f-journal.txt")
    grep -qF -- "$what" "$out/faults-$f-journal.txt"
    verdict $? "$name: the journal says why, naming $what" \
        "$lines line(s): $(grep -m1 -F -- "$what" "$out/faults-$f-journal.txt" | cut -c1-200)"
    how=$(restart_unit)
    [ "$(unit_prop ActiveState)" = active ] && grep -q '^xen_netback ' /proc/modules
    verdict $? "$name: repaired, the unit loads xen_netback again" "$how"
}

# The faults, each a SETUP and a REPAIR. netback_ko: the module's file, found before.
netback_ko=
module_file_delete() { mv "$netback_ko" "$lib/faults-saved.ko"; }
module_file_restore() { mv "$lib/faults-saved.ko" "$netback_ko"; }
depbin() { echo "/lib/modules/$(uname -r)/modules.dep.bin"; }
depbin_corrupt() {
    cp -p "$(depbin)" "$lib/faults-modules.dep.bin"
    head -c 4096 /dev/urandom >"$(depbin)"
}
depbin_restore() { cp -p "$lib/faults-modules.dep.bin" "$(depbin)"; }
# libkmod as our program dlopen()s it: the soname link in the linker's search path.
libkmod_link=
libkmod_remove() { mv "$libkmod_link" "$libkmod_link.xa-faults"; }
libkmod_restore() { mv "$libkmod_link.xa-faults" "$libkmod_link"; }
# /run/modprobe.d read-only (a bind mount of itself), and a deny rule that needs the list.
deny_conf=/etc/xen-autoload/90-faults-deny.conf
modprobe_d_readonly() {
    echo 'deny xen-scsiback' >"$deny_conf"
    rm -f /run/modprobe.d/xen-autoload-deny.conf
    mount --bind /run/modprobe.d /run/modprobe.d && mount -o remount,bind,ro /run/modprobe.d
}
modprobe_d_restore() {
    umount /run/modprobe.d
    rm -f "$deny_conf"
}

faults() {
    faults_sigkill
    save_results
    netback_ko=$(modinfo -n xen_netback 2>/dev/null)
    libkmod_link=$(ldconfig -p | awk '/libkmod\.so\.2 .*x86-64/ { print $NF; exit }')
    fault_case "module file deleted" "$(basename "${netback_ko:-xen-netback.ko}")" \
        module_file_delete module_file_restore
    fault_case "corrupt modules.dep.bin" modules.dep.bin depbin_corrupt depbin_restore
    fault_case "libkmod missing" libkmod libkmod_remove libkmod_restore
    fault_case "/run/modprobe.d read-only" /run/modprobe.d modprobe_d_readonly modprobe_d_restore
    save_results
    local rc
    xen-autoload status >"$out/faults-status-after.txt" 2>&1
    rc=$?
    pass_if "faults: after every repair, xen-autoload status exits 0" "exit $rc" [ "$rc" = 0 ]
}
