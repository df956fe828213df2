#!/bin/bash
# In-image checks of stage boot, run by xa-check.service once the system is up.
# The kernel command line picks what to check:
#   xa.mode=dom0     Xen dom0: detection, unit result, backends loaded before any guest,
#                    journal, status, a PV guest with a vif and a vbd
#   xa.mode=native   same image on bare (emulated) hardware: unit skipped or a no-op,
#                    no xen module, no error
#   xa.mode=measure  Xen dom0 with xen.service, xendomains.service and xen-autoload.service
#                    masked: detection and module loading timings (xa-measure)
#   xa.mode=deny     Xen dom0 whose admin denied xen-netback (drop-in + update-initramfs -u):
#                    netback out at boot and after a guest's vif appears, blkback in
#   xa.mode=denystale  the same without update-initramfs -u: the unit unloads netback
#   xa.mode=speed    Xen dom0, ours or stock (xa.expect-ours=1|0): when xen.service came
#                    up, then the first PV guest (bench/boot-speed.sh compares the two)
#   xa.phase=storm   (dom0) then 8 PV guests at once (xa-storm.sh)
#   xa.phase=faults  (dom0) then SIGKILL and broken-tree faults (xa-faults.sh)
#   xa.phase=pvh     (dom0) then a PVH guest booting a copy of this system (xa-domains.sh)
#   xa.phase=hvm     (dom0) then an HVM guest with PV drivers booting a copy of this system,
#                    QEMU (qemu-system-xen) as its device model here (xa-domains.sh)
#   xa.phase=arm     (dom0) Xen on Arm: no warning from us either (check_no_warning)
#   xa.mode=drvdom   the deny boot's driver domain (a PV guest booting a copy of this
#                    system): its checks go to xenstore, then it serves the test guest's vif
#   xa.mode=domu     the PVH or HVM guest of xa.phase=pvh or hvm: its checks go to xenstore
# Results: every check and metric is one JSON line in $out/results.jsonl and one marker line
# on the console ("XA-CHECK pass|fail NAME -- DETAIL", "XA-METRIC NAME VALUE UNIT"); the whole
# $out directory (results, journal, lsmod snapshots...) is written as a tar archive to the
# raw result disk /dev/vdb; "XA-DONE" on the console comes last. The host judges by these,
# never by QEMU's exit code. The unit powers off when this script ends.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=

out=/run/xa-check
result_disk=/dev/vdb
mkdir -p "$out"
: >"$out/results.jsonl"
mode=$(sed -n 's/.*\bxa\.mode=\([a-z0-9]*\).*/\1/p' /proc/cmdline)
# Extra phases (a dom0 boot's storm, pvh, hvm or faults): xa.phase=NAME, once per phase.
phases=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^xa\.phase=//p' | tr ',\n' '  ')
lib=/var/lib/xa-check
own_unit=xa-check.service
# stage image writes one guest config per installed kernel (customize-image.sh)
guest_cfg=/etc/xen/xa-guest-$(uname -r).cfg
# shellcheck source-path=SCRIPTDIR source=xa-lib.sh
. /usr/local/lib/xa-check/xa-lib
# shellcheck source-path=SCRIPTDIR source=xa-domains.sh
. /usr/local/lib/xa-check/xa-domains

# every_expected_reported: each check ci/boot/expected-checks.txt lists for this mode is in
# the results; one that is not (a path of this script that skipped it) is reported failed.
every_expected_reported() {
    local name p
    while IFS= read -r name; do
        jq -se --arg n "$name" 'any(.[]; (.kind=="check" or .kind=="goal") and .name==$n)' \
            "$out/results.jsonl" >/dev/null || check "$name" fail "not reached: this mode did not report it"
    done < <(sed -n "s/^$mode: //p" /usr/local/lib/xa-check/expected-checks.txt
        for p in $phases; do sed -n "s/^$mode+$p: //p" /usr/local/lib/xa-check/expected-checks.txt; done)
}

# finish: archive $out to the result disk, then the final console marker.
finish() {
    local checks fails
    every_expected_reported
    checks=$(jq -s '[.[] | select(.kind=="check")] | length' "$out/results.jsonl")
    fails=$(jq -s '[.[] | select(.kind=="check" and .result!="pass")] | length' \
        "$out/results.jsonl")
    journalctl -b -o short-monotonic --no-pager >"$out/journal.txt" 2>&1
    dmesg >"$out/dmesg.txt" 2>&1
    [ "$mode" = native ] || timeout 30 xl dmesg >"$out/xl-dmesg.txt" 2>&1
    save_results || say "XA-ERROR could not write the result disk $result_disk"
    say "XA-DONE mode=$mode checks=$checks fails=$fails"
}

# timed VAR COMMAND...: run COMMAND once, its stdout+stderr (one line) into VAR, and its
# wall time in ms into VAR_ms.
timed() {
    local -n _out=$1 _ms=${1}_ms
    shift
    local t0
    t0=$(now_us)
    _out=$("$@" 2>&1 | tr '\n' ' ')
    _ms=$((($(now_us) - t0) / 1000))
}
# Per-call wall time in ms of COMMAND run N times (output discarded).
per_call_ms() {
    local n=$1 t0 t1
    shift
    t0=$(now_us)
    for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1; done
    t1=$(now_us)
    echo $(((t1 - t0) / n / 1000))
}

# Stage 6, detection (in the measure boot only: the figures are the same in every dom0
# boot, and they cost each about 27 s under TCG): our detect vs systemd-detect-virt,
# virt-what and xen-detect, per call, and whether each was right. "Right" means: says Xen
# AND that this is the dom0, which is what picking the backend set needs; a tool with no
# notion of dom0 cannot be right here.
measure_detection() {
    local ms answer right xen_detect
    # The floor: starting any process in a PV dom0 under TCG costs tens of ms.
    metric detect-floor-true-ms "$(per_call_ms 10 /bin/true)" "ms/call (fork+exec of /bin/true)"
    xen_detect=$(command -v xen-detect ||
        find /usr/lib/xen-* /usr/lib/xen-common -name xen-detect -type f 2>/dev/null | head -n 1)

    answer=$(xen-autoload detect --json 2>&1 | jq -c '{hypervisor,role,guest_type}' 2>&1)
    right=0
    [ "$answer" = '{"hypervisor":"xen","role":"dom0","guest_type":"PV"}' ] && right=1
    ms=$(per_call_ms 10 xen-autoload detect)
    metric detect-xen-autoload-ms "$ms" "ms/call"
    metric detect-xen-autoload-right "$right" "said $answer"
    local ours=$ms

    answer=$(systemd-detect-virt 2>&1)
    right=0
    ms=$(per_call_ms 10 systemd-detect-virt)
    metric detect-systemd-detect-virt-ms "$ms" "ms/call"
    metric detect-systemd-detect-virt-right "$right" "said '$answer' (no dom0 notion)"
    local sdv=$ms

    # virt-what is a shell script running dozens of tools (5-30 s per call under TCG):
    # one call, timed, gives both the answer and the figure.
    local vw vw_ms
    timed vw virt-what
    right=0
    case " $vw " in *" xen-dom0 "*) right=1 ;; esac
    metric detect-virt-what-ms "$vw_ms" "ms/call (1 call)"
    metric detect-virt-what-right "$right" "said '$vw'"

    if [ -n "$xen_detect" ]; then
        answer=$("$xen_detect" 2>&1 | tr '\n' ' ')
        ms=$(per_call_ms 10 "$xen_detect")
        metric detect-xen-detect-ms "$ms" "ms/call"
        metric detect-xen-detect-right 0 "said '$answer' (no dom0 notion)"
    else
        check "xen-detect present in the image" fail "not found"
    fi

    # Goal: detect >= 10x faster than systemd-detect-virt.
    local ratio
    ratio=$(awk -v a="$sdv" -v b="$ours" 'BEGIN { printf "%.1f", (b > 0 ? a / b : a) }')
    metric detect-speedup-vs-systemd-detect-virt "$ratio" x
    goal "detect speed-up over systemd-detect-virt" "$ratio" ">=" 10 x
}

# has_phase NAME: the boot runs the extra phase NAME (xa.phase=NAME[,NAME...]).
has_phase() { [[ " $phases " == *" $1 "* ]]; }

# The dom0 checks, then the boot's extra phases: the storm before the clean-boot checks
# (it must log no error), the faults after them (they log errors on purpose).
check_dom0() {
    dom0_checks
    capture_own_fixture dom0
    save_results
    run_guest ''
    save_results
    if has_phase storm; then
        # shellcheck source-path=SCRIPTDIR source=xa-storm.sh
        . /usr/local/lib/xa-check/xa-storm
        storm
        save_results
    fi
    if has_phase pvh; then
        domu_guest pvh
        save_results
    fi
    if has_phase hvm; then
        domu_guest hvm
        save_results
    fi
    # On Arm every module the shipped policy names is loaded or cannot exist there
    # (module_arch.h: xen-acpi-processor is x86's): nothing to warn of. An x86 dom0 under
    # QEMU warns of that module's ENODEV (no ACPI processor data to hand to Xen), rightly.
    if has_phase arm; then check_no_warning; fi
    check_clean
    if has_phase faults; then
        save_results
        # shellcheck source-path=SCRIPTDIR source=xa-faults.sh
        . /usr/local/lib/xa-check/xa-faults
        faults
    fi
}

# check_speed: what a user of this dom0 waits for, the same way in our image and in the
# stock one (stage boot's speed and speed-stock): xen.service up (Debian's init script
# returns once xenstored answers and xenconsoled runs), then the first guest (run_guest's
# create and Connected times). The modules each image had loaded by then are recorded,
# and whether the image is the one the boot is about (ours or stock).
check_speed() {
    cp /proc/modules "$out/modules-before-guest.txt"
    local want have mono
    want=$(cmdline_arg xa.expect-ours)
    have=$(dpkg-query -W -f='${db:Status-Status}' xen-autoload 2>/dev/null)
    if [ "$want" = 1 ]; then
        pass_if "the image is the one this boot is about (ours or stock)" \
            "xen-autoload: ${have:-not installed} (want installed)" [ "$have" = installed ]
    else
        local bin=''
        [ ! -e /usr/sbin/xen-autoload ] || bin=', /usr/sbin/xen-autoload present'
        [ "$have" != installed ] && [ -z "$bin" ]
        verdict $? "the image is the one this boot is about (ours or stock)" \
            "xen-autoload: ${have:-not installed}$bin (want neither)"
    fi
    mono=$(systemctl show -P ActiveEnterTimestampMonotonic xen.service 2>/dev/null)
    if [[ $mono =~ ^[1-9][0-9]*$ ]]; then
        check "xen.service started" pass "at $mono us of the dom0's uptime"
        metric xen-service-active-s "$(awk -v u="$mono" 'BEGIN { printf "%.2f", u / 1e6 }')" \
            "s from the dom0 kernel's start"
    else
        check "xen.service started" fail "ActiveEnterTimestampMonotonic '${mono:-none}': $(systemctl is-active xen.service 2>&1)"
    fi
    local m n=0
    for m in xen_netback xen_blkback; do
        grep -q "^$m " "$out/modules-before-guest.txt" && n=$((n + 1))
    done
    metric backends-loaded-before-guest "$n" "of xen_netback, xen_blkback"
    run_guest ''
    cp /proc/modules "$out/modules-after-guest.txt"
    # Where the boot's time went (each unit's start and end), for bench/boot-speed.sh.
    journalctl -b -o short-monotonic --no-pager >"$out/journal.txt" 2>&1
    local fu
    fu=$(failed_units)
    pass_if "no unit failed" "${fu:-none}" [ -z "$fu" ]
}

# status of a dom0 whose policy denies xen-netback: exit 0, netback reported as denied.
check_denied_status() {
    local rc state
    xen-autoload status >"$out/status.txt" 2>&1
    rc=$?
    xen-autoload status --json >"$out/status.json" 2>/dev/null
    state=$(jq -r '.modules[] | select(.requested == "xen-netback") | .state' "$out/status.json" \
        2>/dev/null | head -n 1)
    pass_if "xen-autoload status exits 0 and says xen-netback is denied" \
        "exit $rc, state ${state:-none}" [ "$rc:$state" = 0:denied ]
}

# What both deny boots check on a dom0 whose admin denied xen-netback in
# /etc/xen-autoload/90-deny-netback.conf (stage image): the drop-in, the blacklist in /run,
# the unit, netback absent (check NAME: at boot, or once the unit is up) and blkback present
# now, status. Leaves the initramfs listing in $out/lsinitramfs.txt for the caller.
deny_common() {
    local netback_check=$1
    local conf=/etc/xen-autoload/90-deny-netback.conf list=/run/modprobe.d/xen-autoload-deny.conf
    cp /proc/modules "$out/modules-before-guest.txt"
    pass_if "the admin's drop-in denies xen-netback" "$conf" grep -qx 'deny xen-netback' "$conf"
    lsinitramfs "/boot/initrd.img-$(uname -r)" >"$out/lsinitramfs.txt" 2>&1
    cp "$list" "$out/" 2>/dev/null
    pass_if "deny list in /run/modprobe.d blacklists xen_netback" \
        "$(grep -m1 '^blacklist' "$list" 2>/dev/null)" grep -qE '^blacklist xen_netback( |$)' "$list"
    local st
    st=$(unit_state)
    pass_if "xen-autoload.service ran and succeeded" "$st" \
        unit_has LoadState=loaded Result=success ConditionResult=yes ExecMainStatus=0
    pass_if "$netback_check" "" not_loaded xen_netback "$out/modules-before-guest.txt"
    pass_if "xen_blkback loaded at boot" "" grep -q '^xen_blkback ' "$out/modules-before-guest.txt"
    check_denied_status
}

# cmdline_arg NAME: the value of NAME= on the kernel command line (empty when absent).
cmdline_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | head -n 1; }
# pci_driver ADDRESS: the driver the PCI device is bound to, "none" when unbound.
pci_driver() {
    local link
    link=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
    echo "${link##*/}"
}

# The deny boot's extra PCI devices (stage boot's pci_devices names them on the command
# line): xa.pci-rule= the e1000 the image's "pciback-hide class=0x0200" hides, xa.pci-param=
# a device named in xen-pciback.hide= (xen-pciback must be in before udev's coldplug),
# xa.pci-control= its twin named nowhere (its native driver binds it: the difference is ours).
check_pci_hide() {
    local rule param control drv hidden line
    rule=$(cmdline_arg xa.pci-rule)
    param=$(cmdline_arg xa.pci-param)
    control=$(cmdline_arg xa.pci-control)
    lspci -nnk >"$out/lspci.txt" 2>&1 || ls -l /sys/bus/pci/devices/*/driver >"$out/lspci.txt" 2>&1
    drv=$(pci_driver "$rule")
    pass_if "pciback-hide class=0x0200: the e1000 is bound to pciback" \
        "${rule:-no xa.pci-rule=}: $drv (e1000 module $(grep -q '^e1000 ' /proc/modules && echo loaded || echo absent))" \
        [ "$drv" = pciback ]
    hidden=$(jq -r --arg a "$rule" '.pci_hide.devices[] | select(.address == $a) | .hidden' \
        "$out/status.json" 2>/dev/null)
    pass_if "xen-autoload status reports the e1000 hidden" "hidden=${hidden:-absent}" \
        [ "$hidden" = true ]
    line=$(journalctl -b -o cat --no-pager SYSLOG_IDENTIFIER=xen-autoload _TRANSPORT=kernel \
        2>/dev/null | grep -m1 -F "$rule: hidden: bound to pciback")
    [ -n "$rule" ] && [ -n "$line" ]
    verdict $? "journal: the initramfs's load hid the e1000" "$(cut -c1-200 <<<"$line")"
    drv=$(pci_driver "$param")
    pass_if "xen-pciback.hide= device bound to pciback (xen-pciback loaded before coldplug)" \
        "${param:-no xa.pci-param=}: $drv" [ "$drv" = pciback ]
    drv=$(pci_driver "$control")
    pass_if "control: its twin, named nowhere, bound to its native driver" \
        "${control:-no xa.pci-control=}: $drv" [ "$drv" = virtio-pci ]
}

# The deny variant (drop-in, then update-initramfs -u). Nothing may load xen-netback: not
# the initramfs, not the unit, not udev's generic modalias load when a guest's vif backend
# device appears (xen-backend:vif).
check_deny() {
    deny_common "xen_netback not loaded at boot (denied)"
    pass_if "the initramfs holds the drop-in (update-initramfs -u)" "$out/lsinitramfs.txt" \
        grep -qx etc/xen-autoload/90-deny-netback.conf "$out/lsinitramfs.txt"
    check_pci_hide
    save_results
    local rc

    # A guest with a vif and a vbd: its vif's backend device appears in this dom0 (kernel
    # uevent, recorded by udevadm monitor) and asks for xen-backend:vif. Without netback the
    # toolstack gives up on the vif and the guest is not created: expected, not checked.
    local cfg
    cfg=$(guest_setup)
    timeout 60 udevadm monitor --kernel --subsystem-match=xen-backend >"$out/uevents-xen-backend.txt" 2>&1 &
    local monitor_pid=$!
    sleep 1
    local t0
    t0=$(now_us)
    timeout 180 xl create "$cfg" >"$out/xl-create.txt" 2>&1
    rc=$?
    metric deny-xl-create-exit "$rc" "exit status (non-zero expected: no network backend)"
    metric deny-xl-create-ms $((($(now_us) - t0) / 1000)) ms
    udevadm settle --timeout=60
    kill "$monitor_pid" 2>/dev/null
    wait "$monitor_pid" 2>/dev/null
    cp /proc/modules "$out/modules-with-guest.txt"
    timeout 60 xl destroy xa-guest >/dev/null 2>&1
    local vif
    # "KERNEL[73.899755] add      /devices/vif-1-0 (xen-backend)" (seen in a Debian 12 dom0)
    vif=$(grep -oE 'add +/devices/(xen-backend/)?vif-[0-9]+-0 ' "$out/uevents-xen-backend.txt" |
        head -n 1 | sed -E 's|.*/||; s/ $//')
    pass_if "a guest's vif backend device appeared (udev add)" "${vif:-none}" [ -n "$vif" ]
    pass_if "xen_netback still not loaded after the vif appeared (udev settled)" "" \
        not_loaded xen_netback "$out/modules-with-guest.txt"
    local refusal
    refusal=$(journalctl -b -o cat --no-pager SYSLOG_IDENTIFIER=xen-autoload 2>/dev/null |
        grep -E "${vif:-vif-[0-9]+-0}.*xen-backend:vif.*denied" | head -n 1)
    pass_if "journal: our helper refused the vif, naming the domain and device" \
        "$(cut -c1-200 <<<"$refusal")" [ -n "$refusal" ]
    save_results

    driver_domain
    save_results
    check_clean
}

# The admin who forgot update-initramfs -u after the drop-in: the initramfs's older policy
# loads xen-netback; the unit must unload it (nothing uses it before any guest), say what to
# run, and leave the host as the policy says.
check_deny_stale() {
    deny_common "xen_netback not loaded once the service is up"
    pass_if "the initramfs predates the drop-in (update-initramfs -u not run)" \
        "$out/lsinitramfs.txt" not_listed etc/xen-autoload/90-deny-netback.conf "$out/lsinitramfs.txt"
    local line
    # The initramfs logs to the kernel log (XEN_AUTOLOAD_LOG_TARGET=kmsg).
    journalctl -b -o cat --no-pager SYSLOG_IDENTIFIER=xen-autoload _TRANSPORT=kernel \
        >"$out/journal-initramfs.txt" 2>&1
    line=$(grep -m1 -E '^xen-netback: loaded( as xen_netback)?$' "$out/journal-initramfs.txt")
    pass_if "the initramfs loaded xen_netback (its older policy allows it)" "$line" [ -n "$line" ]
    unit_journal cat >"$out/journal-xen-autoload.txt" 2>&1
    line=$(grep -m1 -E '^xen_netback: denied by .*update-initramfs -u.*; unloaded$' \
        "$out/journal-xen-autoload.txt")
    pass_if "xen-autoload.service unloaded xen_netback and named update-initramfs -u" \
        "$(cut -c1-200 <<<"$line")" [ -n "$line" ]
    check_clean
}

check_native() {
    cp /proc/modules "$out/modules.txt"
    lsmod >"$out/lsmod.txt"
    journalctl -b -u xen-autoload.service -o short-monotonic --no-pager \
        >"$out/journal-xen-autoload.txt" 2>&1

    xen-autoload detect --json >"$out/detect.json" 2>"$out/detect.err"
    local rc=$? det
    det=$(jq -r '"\(.hypervisor) \(.role)"' "$out/detect.json" 2>/dev/null)
    pass_if "xen-autoload detect says no Xen" "exit $rc: ${det:-unparsable}" \
        [ "$rc:$det" = "0:none none" ]

    local st
    st=$(unit_state)
    if ! unit_has LoadState=loaded; then
        check "xen-autoload.service skipped or a no-op" fail "not installed or not loadable: $st"
    elif unit_has ConditionResult=no; then
        check "xen-autoload.service skipped or a no-op" pass "skipped by its condition: $st"
    elif unit_has Result=success ExecMainStatus=0; then
        check "xen-autoload.service skipped or a no-op" pass "ran, succeeded: $st"
    else
        check "xen-autoload.service skipped or a no-op" fail "$st"
    fi

    capture_own_fixture native
    local xen_mods
    xen_mods=$(awk '$1 ~ /^xen/ { print $1 }' "$out/modules.txt" | tr '\n' ' ')
    pass_if "no xen module loaded" "${xen_mods:-none}" [ -z "$xen_mods" ]

    check_clean
    # Nobody else may complain about Xen either (e.g. a static list failing with ENODEV).
    local xen_errs
    xen_errs=$(journalctl -b -p err -o cat --no-pager 2>/dev/null | grep -i xen)
    pass_if "no Xen-related error in the journal" "$(head -n 2 <<<"$xen_errs" | cut -c1-200)" \
        [ -z "$xen_errs" ]
}

say "XA-START mode=$mode uptime=$(cut -d' ' -f1 /proc/uptime)"
metric checks-start-uptime-s "$(cut -d' ' -f1 /proc/uptime)" s
uname -a >"$out/uname.txt"
cat /proc/cmdline >"$out/cmdline.txt"
dpkg-query -W xen-autoload xen-host linux-image-xen-autoload >"$out/packages.txt" 2>&1
wait_settled
case $mode in
    dom0) check_dom0 ;;
    deny) check_deny ;;
    denystale) check_deny_stale ;;
    speed) check_speed ;;
    drvdom)
        check_driver_domain_guest
        exit 0
        ;;
    domu)
        check_domu_guest
        exit 0
        ;;
    native) check_native ;;
    measure)
        # shellcheck source-path=SCRIPTDIR source=xa-measure.sh
        . /usr/local/lib/xa-check/xa-measure
        measure_detection
        save_results
        measure_loading
        ;;
    *) check "known xa.mode" fail "'$mode'" ;;
esac
finish
exit 0
