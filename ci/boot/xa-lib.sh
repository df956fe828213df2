# shellcheck shell=bash
# The in-image check library shared by stage boot's xa-check (ci/boot/xa-check.sh) and
# stage admin's xa-admin (ci/admin/xa-admin.sh): result records, unit state, the dom0
# checks, the PV guest with a vif and a vbd, and the clean-boot checks. Source it after
# setting:
#   out          directory of the results (results.jsonl, snapshots, journal extracts)
#   lib          persistent directory of the guest's files (guest-disk.img)
#   result_disk  the raw disk the results are archived to (tar)
#   own_unit     the caller's own unit (left out of "no unit failed")
#   guest_cfg    the PV guest's xl config (its disk target is $lib/guest-disk.img)
# Results: every check and metric is one JSON line in $out/results.jsonl and one marker line
# on the console ("XA-CHECK pass|fail NAME -- DETAIL", "XA-METRIC NAME VALUE UNIT"); the host
# judges by these, never by QEMU's exit code.
# shellcheck disable=SC2154 # out, lib, result_disk, own_unit, guest_cfg: set by the caller

# Markers go straight to the console (no journal prefix), and to the journal via stdout.
say() { printf '%s\n' "$*" >/dev/console; printf '%s\n' "$*"; }

# check NAME pass|fail [DETAIL]
check() {
    local name=$1 result=$2 detail=${3:-}
    jq -cn --arg n "$name" --arg r "$result" --arg d "$detail" \
        '{kind:"check", name:$n, result:$r, detail:$d}' >>"$out/results.jsonl"
    say "XA-CHECK $result $name -- $detail"
}
# metric NAME VALUE [UNIT]
metric() {
    local name=$1 value=$2 unit=${3:-}
    jq -cn --arg n "$name" --argjson v "$value" --arg u "$unit" \
        '{kind:"metric", name:$n, value:$v, unit:$u}' >>"$out/results.jsonl"
    say "XA-METRIC $name $value $unit"
}
# goal NAME VALUE OP LIMIT [UNIT]: a performance goal; the host records it with
# xa_goal (met/missed: reported, not a failure, since TCG timings vary too much to gate on).
goal() {
    local name=$1 value=$2 op=$3 limit=$4 unit=${5:-}
    jq -cn --arg n "$name" --arg v "$value" --arg o "$op" --arg l "$limit" --arg u "$unit" \
        '{kind:"goal", name:$n, value:$v, op:$o, limit:$l, unit:$u}' >>"$out/results.jsonl"
    say "XA-GOAL $name: $value $op $limit $unit"
}
# pass_if NAME DETAIL COMMAND...: pass when COMMAND succeeds.
pass_if() {
    local name=$1 detail=$2
    shift 2
    if "$@"; then check "$name" pass "$detail"; else check "$name" fail "$detail"; fi
}
# Wall clock in microseconds without forking (bash 5 EPOCHREALTIME).
# verdict STATUS NAME DETAIL: pass when STATUS is 0. Called as `verdict $? NAME DETAIL`
# right after a compound test: $? must come first, because a command substitution in
# DETAIL, expanded before any later argument, resets it (a check that could never fail).
verdict() {
    case $1 in
        '' | *[!0-9]*) check "$2" fail "verdict: status '$1' is not a number (a caller's bug)" ;;
        0) check "$2" pass "$3" ;;
        *) check "$2" fail "$3" ;;
    esac
}
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# The in-kernel and unit state settles before we look: our unit must have finished, and
# udev must have processed the coldplug events. Every wait has a deadline.
wait_settled() {
    local deadline=$((SECONDS + 120)) state
    while :; do
        state=$(unit_prop ActiveState)
        case $state in activating | deactivating | reloading) ;; *) break ;; esac
        [ $SECONDS -lt $deadline ] || break
        sleep 1
    done
    udevadm settle --timeout=60 || true
}

# save_results: archive $out to the result disk now, so that a boot killed by the host's
# deadline still leaves the checks done so far. The result disk is the blank one: never a
# disk with a filesystem on it.
save_results() {
    [ -b "$result_disk" ] && [ -z "$(blkid -o value -s TYPE "$result_disk" 2>/dev/null)" ] &&
        tar -C "$out" -cf "$result_disk" . && sync
}

# "LoadState=loaded Result=success ActiveState=active ... " of our unit, one property at a
# time (systemctl show -p prints in its own order). LoadState matters: systemctl shows a unit
# that does not exist as Result=success ConditionResult=no, i.e. "skipped".
unit_prop() { systemctl show -P "$1" xen-autoload.service 2>/dev/null; }
unit_state() {
    local p
    for p in LoadState Result ActiveState SubState ConditionResult ExecMainStatus; do
        printf '%s=%s ' "$p" "$(unit_prop "$p")"
    done
}
# unit_has PROPERTY=VALUE...: every pair holds in the (already captured) state $st.
unit_has() {
    local pair
    for pair in "$@"; do [[ " $st " == *" $pair "* ]] || return 1; done
}

# not_loaded MODULE FILE: MODULE is not in FILE, a copy of /proc/modules.
# shellcheck disable=SC2317 # called through pass_if
not_loaded() { ! grep -q "^$1 " "$2"; }
# not_listed PATH FILE: PATH is not a line of FILE (an lsinitramfs listing).
# shellcheck disable=SC2317 # called through pass_if
not_listed() { ! grep -qx "$1" "$2"; }

# Modules that must be loaded in a dom0 before any guest exists .
dom0_modules=(xen_netback xen_blkback xen_evtchn xen_gntdev xen_gntalloc xen_privcmd xenfs)

# Every xenstore and xl call once the guest exists has a deadline: a xenstored that stops
# answering must turn into failed checks and a saved journal, not a hung unit.
xs_read() { timeout -k 5 10 xenstore-read "$1" 2>/dev/null; }

# guest_setup: the bridge and a fresh 16 MB disk of the PV guest; prints its xl config
# ($guest_cfg: the guest boots the running dom0 kernel).
guest_setup() {
    ip link add xenbr0 type bridge 2>/dev/null
    ip link set xenbr0 up
    rm -f "$lib/guest-disk.img"
    truncate -s 16M "$lib/guest-disk.img"
    echo "$guest_cfg"
}

# shutdown_domain NAME LOG: `xl shutdown -w NAME` (its output in LOG); succeeds when the
# domain is gone within the deadline, and prints the time it took. The domain's absence
# decides, not xl's status alone: libxl can fail a guest that did shut down, when its
# watch reads control/shutdown of a domain already torn down ("xenstore read failed:
# .../control/shutdown: Invalid argument", "guest didn't acknowledge control request":
# seen in a loaded run). XA_SHUTDOWN_GRACE: seconds it may take after xl gave up (60).
shutdown_domain() {
    local name=$1 log=$2 t0 deadline
    t0=$(now_us)
    if timeout 120 xl shutdown -w "$name" >"$log" 2>&1; then
        echo "$((($(now_us) - t0) / 1000)) ms"
        return 0
    fi
    deadline=$((SECONDS + ${XA_SHUTDOWN_GRACE:-60}))
    while timeout 10 xl domid "$name" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            echo "still running: $(tail -n 2 "$log" | tr '\n' ' ')"
            return 1
        fi
        sleep 1
    done
    echo "$((($(now_us) - t0) / 1000)) ms (gone; xl said: $(tail -n 1 "$log"))"
}

# shutdown_check NAME LOG CHECK: shutdown_domain NAME LOG as the check CHECK; a domain
# still there after it is destroyed.
shutdown_check() {
    local how
    if how=$(shutdown_domain "$1" "$2"); then
        check "$3" pass "$how"
    else
        check "$3" fail "$how"
        timeout 60 xl destroy "$1" >/dev/null 2>&1
    fi
}

# console_log NAME FILE SECONDS [PREFIX [TYPE]]: copy domain NAME's console to FILE, in the
# background, for at most SECONDS; prints the reader's pid (kill it when done). Its stdin is
# a FIFO opened read-write, which never reads end-of-file: xl console ends at end-of-file on
# its stdin, so with </dev/null it copied only what xenconsoled had buffered when it
# started. With PREFIX, every line also goes to this domain's console with PREFIX in front
# (the serial log then shows that domain's boot even when this script never returns), its
# markers in lower case (xa-check ...): the host reads only this domain's XA- markers.
# TYPE: xl console's -t (pv: an HVM guest's hvc0, where xl's default for HVM is the
# emulated serial port); without it xl's default, the PV console of PV and PVH domains.
console_log() {
    local fifo=$lib/console-stdin t=()
    [ -p "$fifo" ] || mkfifo "$fifo"
    [ -z "${5:-}" ] || t=(-t "$5")
    if [ -n "${4:-}" ]; then
        timeout "$3" xl console "${t[@]}" "$1" <>"$fifo" 2>&1 |
            tee "$2" | sed -u -e 's/XA-\([A-Z]\)/xa-\1/g' -e "s/^/$4/" >/dev/console 2>&1 &
    else
        timeout "$3" xl console "${t[@]}" "$1" <>"$fifo" >"$2" 2>&1 &
    fi
    echo $!
}

# prefix_stem PREFIX: a check prefix as a file name stem ("driver domain: " -> driver-domain).
prefix_stem() {
    local f=${1%%:*}
    echo "${f// /-}"
}

# read_device_states DOMID [VIF_BACKEND_ID]: the XenbusState of a guest's vif 0 and vbd
# xvda (51712), frontend and backend side, into vif_f vif_b vbd_f vbd_b (the caller's
# locals); empty when unreadable. The vif's backend: domain VIF_BACKEND_ID (default 0).
read_device_states() {
    vif_f=$(xs_read "/local/domain/$1/device/vif/0/state")
    vif_b=$(xs_read "/local/domain/${2:-0}/backend/vif/$1/0/state")
    vbd_f=$(xs_read "/local/domain/$1/device/vbd/51712/state")
    vbd_b=$(xs_read "/local/domain/0/backend/vbd/$1/51712/state")
}

# check_connected NAME_PREFIX: both devices Connected (XenbusStateConnected = 4) on both
# ends, from read_device_states' variables.
check_connected() {
    pass_if "${1}vif Connected (frontend and backend state 4)" \
        "frontend ${vif_f:-none}, backend ${vif_b:-none}" [ "$vif_f$vif_b" = 44 ]
    pass_if "${1}vbd Connected (frontend and backend state 4)" \
        "frontend ${vbd_f:-none}, backend ${vbd_b:-none}" [ "$vbd_f$vbd_b" = 44 ]
}

# run_guest [PREFIX [VIF_BACKEND]]: the PV guest: one vif on a bridge, one 16 MB file-backed
# vbd; both must reach Connected (XenbusStateConnected = 4) on the frontend and the backend
# side, then it shuts down. PREFIX goes in front of every check and file name (a second
# guest of the same boot: "after the upgrade: "). VIF_BACKEND: the domain (name) that
# serves the vif instead of this one (xl's backend=, a driver domain), with its own bridge.
run_guest() {
    local p=${1:-} vif_dom=${2:-} f
    local domid t0 deadline vif_f vif_b vbd_f vbd_b cfg vif_backend_id=0
    f=$(prefix_stem "$p")${p:+-}
    cfg=$(guest_setup)
    if [ -n "$vif_dom" ] && [ -f "$cfg" ]; then
        vif_backend_id=$(timeout 30 xl domid "$vif_dom" 2>/dev/null)
        sed "s/^vif = \[ \"/vif = [ \"backend=$vif_dom,/" "$cfg" >"$out/${f}guest.cfg"
        cfg=$out/${f}guest.cfg
    fi

    t0=$(now_us)
    if [ ! -f "$cfg" ]; then
        check "${p}guest created (xl create)" fail "$cfg: missing (stage image or stage admin writes it)"
        return
    fi
    # A vif served by a driver domain is created paused (-p), and runs once that domain's
    # hotplug script has attached the vif (run_when_hotplugged).
    if ! timeout 180 xl create ${vif_dom:+-p} "$cfg" >"$out/${f}xl-create.txt" 2>&1; then
        check "${p}guest created (xl create)" fail "$(tail -n 3 "$out/${f}xl-create.txt" | tr '\n' ' ')"
        timeout 60 xl destroy xa-guest >/dev/null 2>&1
        return
    fi
    metric "${f}guest-create-ms" $((($(now_us) - t0) / 1000)) ms
    domid=$(timeout 30 xl domid xa-guest 2>/dev/null)
    check "${p}guest created (xl create)" pass "domid $domid"
    [ -z "$vif_dom" ] || run_when_hotplugged "$p" "$f" "$domid" "$vif_backend_id"
    local console_pid
    console_pid=$(console_log xa-guest "$out/${f}guest-console.txt" 300)

    deadline=$((SECONDS + 120))
    while :; do
        read_device_states "$domid" "$vif_backend_id"
        [ "$vif_f$vif_b$vbd_f$vbd_b" = 4444 ] && break
        [ $SECONDS -lt $deadline ] || break
        sleep 1
    done
    metric "${f}guest-devices-connected-ms" $((($(now_us) - t0) / 1000)) ms
    # Not both Connected: what every process waits on, for the record.
    [ "$vif_f$vif_b$vbd_f$vbd_b" = 4444 ] ||
        timeout 10 ps -eo pid,stat,wchan:32,etime,args >"$out/${f}ps-devices-not-connected.txt" 2>&1
    timeout 30 xl network-list xa-guest >"$out/${f}xl-network-list.txt" 2>&1
    timeout 30 xl block-list xa-guest >"$out/${f}xl-block-list.txt" 2>&1
    timeout 30 xenstore-ls -f "/local/domain/0/backend" >"$out/${f}xenstore-backend.txt" 2>&1
    [ "$vif_backend_id" = 0 ] || timeout 30 xenstore-ls -f "/local/domain/$vif_backend_id/backend" \
        >>"$out/${f}xenstore-backend.txt" 2>&1
    check_connected "${p}guest "
    cp /proc/modules "$out/${f}modules-with-guest.txt"

    shutdown_check xa-guest "$out/${f}xl-shutdown.txt" "${p}guest shut down (xl shutdown -w)"
    kill "$console_pid" 2>/dev/null
    wait "$console_pid" 2>/dev/null
    # What the guest saw, written by its /init at the start of its xvda, and the kernel it
    # ran: it must be this dom0's (the guest config names it), e.g. ours with built-in
    # frontends.
    local seen
    seen=$(head -c 512 "$lib/guest-disk.img" | tr -d '\0' | head -n 1)
    pass_if "${p}guest used its vbd and vif (marker written through blkfront)" "${seen:-no marker}" \
        [ "$seen" = "XA-GUEST-RESULT blk=ok net=ok kernel=$(uname -r)" ]
}

# run_when_hotplugged PREFIX STEM DOMID BACKEND_DOMID: unpause the guest DOMID once the
# driver domain BACKEND_DOMID's hotplug script (vif-bridge, run by its `xl devd`) has
# reported its vif attached (hotplug-status "connected"), or after XA_HOTPLUG_WAIT seconds
# (180; then the vif checks say what is missing). libxl kills a hotplug script after 40 s
# (LIBXL_HOTPLUG_TIMEOUT). For a device whose backend is in the dom0, xl create runs the
# script before the guest runs; for a driver domain's backend it does not wait, and a guest
# booting beside the script on the one emulated CPU made it overrun those 40 s (the deny
# boot's flake of 2026-12-06/07: the vif stayed in InitWait with an empty hotplug-status,
# though vif-bridge had put it on the bridge). So the guest waits, as it does for a dom0's
# device.
run_when_hotplugged() {
    local p=$1 f=$2 domid=$3 be=$4 t0 st deadline=$((SECONDS + ${XA_HOTPLUG_WAIT:-180}))
    t0=$(now_us)
    while st=$(xs_read "/local/domain/$be/backend/vif/$domid/0/hotplug-status"); [ "$st" != connected ]; do
        [ $SECONDS -lt $deadline ] || break
        sleep 1
    done
    metric "${f}vif-hotplug-ms" $((($(now_us) - t0) / 1000)) ms
    pass_if "${p}guest vif attached by the driver domain's hotplug script (hotplug-status connected)" \
        "hotplug-status '${st}'" [ "$st" = connected ]
    timeout 60 xl unpause "$domid"
}

# unit_journal FORMAT: our unit's lines of this boot (journalctl -o FORMAT). The daemon's
# forked children log through the journal's native protocol and exit at once: journald then
# often cannot look up their cgroup, and the line lacks _SYSTEMD_UNIT (seen on trixie with 1
# CPU, and in the driver domain). Those lines still carry our identifier and
# _TRANSPORT=journal (the initramfs' kmsg lines do not).
unit_journal() {
    journalctl -b -o "$1" --no-pager _SYSTEMD_UNIT=xen-autoload.service + \
        SYSLOG_IDENTIFIER=xen-autoload _TRANSPORT=journal
}

# journal_cursor: the journal's current cursor, for "what was logged since".
journal_cursor() { journalctl -n 1 -o cat --show-cursor --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p'; }

# our_journal_since CURSOR: every journal entry under our name after CURSOR, as JSON lines
# (the one query the phases' journal checks filter). Not --after-cursor: with a match,
# systemd 252's journalctl skips two entries from the cursor, the cursor's own and one
# more, so when the cursor's entry is not ours it drops our first line after it (the
# storm's count checks lost a device that way). --cursor includes the cursor's entry when
# it is ours: jq drops it. tests/ci/xa-lib-test.sh holds this on a real journal file.
our_journal_since() {
    journalctl --cursor="$1" -o json --no-pager SYSLOG_IDENTIFIER=xen-autoload |
        jq -c --arg c "$1" 'select(.__CURSOR != $c)'
}

# daemon_device_counts CURSOR: "DEVICE COUNT" per backend device (sysfs name, e.g. vif-5-0)
# our daemon logged a line for since CURSOR, by the structured field XA_DEVICE= its backend
# lines carry. Lines of our name from another unit (a udev helper that logs to the journal)
# are not the daemon's; the daemon's forked children may lack _SYSTEMD_UNIT (unit_journal).
daemon_device_counts() {
    our_journal_since "$1" 2>/dev/null |
        jq -r 'select(.XA_DEVICE != null and
            (._SYSTEMD_UNIT // "xen-autoload.service") == "xen-autoload.service") |
            .XA_DEVICE | sub(".*/"; "")' | sort | uniq -c | awk '{ print $2, $1 }'
}

# backend_devices REGEX: the dom0 kernel's xen-backend devices (vif-5-0...) matching REGEX.
backend_devices() {
    local d
    for d in /sys/bus/xen-backend/devices/*; do
        [ -e "$d" ] && [[ ${d##*/} =~ $1 ]] && echo "${d##*/}"
    done | sort
}

# device_count_mismatch DEVICES COUNTS: each of DEVICES (one per line) must have count 1 in
# COUNTS (daemon_device_counts); prints "DEVICE:COUNT " for each that does not.
device_count_mismatch() {
    awk 'NR == FNR { n[$1] = $2; next }
        $1 != "" && n[$1] != 1 { printf "%s:%s ", $1, (n[$1] == "" ? 0 : n[$1]) }' \
        <(printf '%s\n' "$2") <(printf '%s\n' "$1")
}

# daemon_handled_once CURSOR DEVICES FILE: waits (60 s at most: the daemon's children log
# after the uevent) until each of DEVICES has exactly one daemon line since CURSOR; the
# counts go to FILE; prints the devices that do not ("DEVICE:COUNT ...", empty when all do).
daemon_handled_once() {
    local deadline=$((SECONDS + 60)) counts wrong
    while :; do
        counts=$(daemon_device_counts "$1")
        wrong=$(device_count_mismatch "$2" "$counts")
        if [ -z "$wrong" ] || [ $SECONDS -ge $deadline ]; then break; fi
        sleep 2
    done
    printf '%s\n' "$counts" >"$3"
    printf '%s' "$wrong"
}

# Errors logged by us: our unit, and anything logged under our name (udev helper, initramfs).
our_errors() {
    journalctl -b -p err -o short-monotonic --no-pager \
        _SYSTEMD_UNIT=xen-autoload.service + SYSLOG_IDENTIFIER=xen-autoload 2>/dev/null |
        grep -v '^-- ' || true
}

# check_no_warning: nothing at warning level from us this boot (the initramfs' lines, through
# /dev/kmsg, and the unit's); errors are check_clean's.
check_no_warning() {
    local warns
    warns=$(journalctl -b -p warning..warning -o short-monotonic --no-pager \
        _SYSTEMD_UNIT=xen-autoload.service + SYSLOG_IDENTIFIER=xen-autoload 2>/dev/null |
        grep -v '^-- ' || true)
    local detail=none
    [ -z "$warns" ] || detail=$(head -n 2 <<<"$warns" | cut -c1-200)
    pass_if "no warning from xen-autoload in the journal" "$detail" [ -z "$warns" ]
}

failed_units() {
    systemctl list-units --state=failed --no-legend --plain 2>/dev/null |
        awk -v own="$own_unit" '$1 != own { print $1 }' | tr '\n' ' '
}

# dom0_checks: every dom0 assertion before any guest: module snapshot, detect, the unit,
# the backends and control modules loaded, the toolstack ordered after us, our journal,
# status exit 0.
dom0_checks() {
    # Snapshot first, before this script runs anything that could load a module.
    cp /proc/modules "$out/modules-before-guest.txt"
    lsmod >"$out/lsmod-before-guest.txt"
    xl list >"$out/xl-list-before-guest.txt" 2>&1
    local domains
    domains=$(tail -n +2 "$out/xl-list-before-guest.txt" | grep -c .)
    pass_if "no guest existed at the module snapshot (xl list)" "$domains domain(s)" \
        [ "$domains" = 1 ]
    unit_journal short-monotonic >"$out/journal-xen-autoload.txt" 2>&1

    xen-autoload detect --json >"$out/detect.json" 2>"$out/detect.err"
    local rc=$? det
    det=$(jq -r '"\(.hypervisor) \(.role) \(.guest_type)"' "$out/detect.json" 2>/dev/null)
    # PV, unless the boot says otherwise (xa.dom0-type=: PVH under dom0=pvh, HVM on Arm).
    local want
    want=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^xa\.dom0-type=//p' | head -n 1)
    want=${want:-PV}
    pass_if "xen-autoload detect says xen dom0 of the boot's type (x86: PV, PVH under dom0=pvh; Arm: HVM)" \
        "exit $rc: ${det:-unparsable} (want xen dom0 $want)" [ "$rc:$det" = "0:xen dom0 $want" ]

    local st
    st=$(unit_state)
    # A daemon (Type=notify) is still active; a oneshot would be active (RemainAfterExit)
    # or inactive: either way it ran (ConditionResult=yes) and nothing failed.
    pass_if "xen-autoload.service ran and succeeded" "$st" \
        unit_has LoadState=loaded Result=success ConditionResult=yes ExecMainStatus=0

    local m
    for m in "${dom0_modules[@]}"; do
        pass_if "$m loaded before any guest" "" grep -q "^$m " "$out/modules-before-guest.txt"
    done
    check_ordering

    # The journal of our unit accounts for the backends: loaded by it, or found already
    # loaded (by xen-autoload in the initramfs: the host checks that on the console, since
    # the initramfs runs before journald).
    local j=$out/journal-xen-autoload.txt
    for m in xen_netback xen_blkback; do
        local re="${m//_/[-_]}: (already )?loaded"
        pass_if "journal: xen-autoload.service reports $m loaded" \
            "$(grep -m1 -E "$re" "$j" | cut -c1-200)" grep -qE "$re" "$j"
    done

    xen-autoload status >"$out/status.txt" 2>&1
    rc=$?
    xen-autoload status --json >"$out/status.json" 2>/dev/null
    pass_if "xen-autoload status exits 0" "exit $rc" [ "$rc" = 0 ]
}

# Ordering: every Xen toolstack unit that ran (xenstored, xen-init-dom0, xenconsoled: Debian
# 13's units; Debian 12's init script as xen.service) left "inactive" no earlier than our
# unit became active, which for Type=notify is when it sent READY=1 (systemd's monotonic
# timestamps, the same clock for all units).
check_ordering() {
    local ready u t detail="" late=""
    ready=$(unit_prop ActiveEnterTimestampMonotonic)
    for u in xenstored.service xen-init-dom0.service xenconsoled.service xen.service; do
        [ "$(systemctl show -P LoadState "$u")" = loaded ] || continue
        t=$(systemctl show -P InactiveExitTimestampMonotonic "$u")
        [ "${t:-0}" -gt 0 ] || continue
        detail+="$u +$(((t - ${ready:-0}) / 1000)) ms; "
        [ "$t" -ge "${ready:-0}" ] || late+="$u "
    done
    if [ "${ready:-0}" -gt 0 ] && [ -n "$detail" ] && [ -z "$late" ]; then
        check "Xen toolstack units started after xen-autoload.service was ready" pass \
            "READY=1 at ${ready} us; $detail"
    else
        check "Xen toolstack units started after xen-autoload.service was ready" fail \
            "ready ${ready:-never}; ${detail:-no toolstack unit ran}; before it: ${late:-none}"
    fi
    # Coldplug (systemd-udev-trigger.service) waits for our unit: if our unit waited for
    # the local file systems, an fstab mount whose device only coldplug announces
    # (/boot/efi on UEFI) would wait for the device timeout. The whole chain of units
    # ours is ordered after must not reach local-fs.target.
    local deps chain
    deps=$(systemctl list-dependencies --after --all --plain --no-pager xen-autoload.service 2>&1 |
        sed 's/^[^[:alnum:]]*//')
    chain=$(grep -E '^(local-fs\.target|systemd-tmpfiles-setup\.service|tmp\.mount)$' <<<"$deps" | tr '\n' ' ')
    # The tree starts with the unit itself; without it, systemctl failed.
    grep -qx 'xen-autoload.service' <<<"$deps" || chain="no dependency tree: $(head -n 1 <<<"$deps")"
    pass_if "xen-autoload.service is not ordered after the local file systems (coldplug does not wait for fstab)" \
        "${chain:-$(($(wc -l <<<"$deps") - 1)) units before it; local-fs.target, systemd-tmpfiles-setup.service, tmp.mount not among them}" \
        [ -z "$chain" ]
}

# check_clean [PREFIX]: no unit failed, nothing at error level from us: the last checks of
# every boot (PREFIX before their names: another domain's, "driver domain: ").
# shellcheck disable=SC2120 # PREFIX is optional
check_clean() {
    local p=${1:-} failed errs
    failed=$(failed_units)
    pass_if "${p}no unit failed" "${failed:-none}" [ -z "$failed" ]
    errs=$(our_errors)
    pass_if "${p}no error from xen-autoload in the journal" "$(head -n 2 <<<"$errs" | cut -c1-200)" \
        [ -z "$errs" ]
}

