# shellcheck shell=bash
# Domains that boot a copy of this very system: the third disk (stage boot's -x: /dev/vdc,
# a snapshot of the same image) as their xvda, the dom0's own kernel and initramfs, so
# their user space is the real Debian root with our package. Each runs its own xa-check
# (the xa.mode= on its command line) and reports its checks through xenstore
# (data/xa-check/N, one JSON record each, then data/xa-check/done = N; data/ is the
# domain's own); the dom0 re-records them under the domain's prefix.
#   driver_domain  the deny boot's driver domain (xa.mode=drvdom): PV, "driver-domain yes",
#                  then it serves the test guest's vif while the dom0 denies xen-netback
#   domu_guest     a plain guest of another kind (xa.mode=domu, xa.domu=pvh|hvm): phase pvh
#                  of the dom0 boot with our kernel, phase hvm (an HVM guest with PV
#                  drivers, QEMU as its device model in this dom0) of the one with Debian's:
#                  detect, the unit, nothing loaded, its root through blkfront and its vif
#                  through netfront
# Sourced by xa-check; uses check/metric/pass_if/verdict/xs_read/now_us/console_log/
# shutdown_check/save_results/unit_state/unit_has/unit_journal/check_clean/cmdline_arg/
# run_guest/guest_setup/not_loaded/prefix_stem/read_device_states/check_connected and $out
# from it.
# shellcheck disable=SC2154 # out: set by xa-check

copy_disk=/dev/vdc

# copy_start NAME CFG PREFIX WHAT WAIT [CONSOLE]: xl create CFG (domain NAME), check
# "PREFIXstarted (WHAT)", keep its console ($out/F-console.txt, F from PREFIX; also on this
# console behind "[NAME] "; CONSOLE: console_log's TYPE, pv for an HVM guest's hvc0) for
# 600 s, or WAIT + 60 when longer, then wait for its report (WAIT seconds at most, less if
# the domain is gone) and re-record its checks. Sets copy_domid and copy_console_pid; fails
# when the domain did not start. The waits end well before xa-check's 1080 s (1380 s in an
# image made for the HVM guest), so that the console is kept whatever happens.
copy_start() {
    local name=$1 cfg=$2 p=$3 what=$4 wait=$5 console=${6:-} f n='' i rec t0 deadline keep=600
    f=$(prefix_stem "$p")
    copy_domid='' copy_console_pid=''
    t0=$(now_us)
    if ! timeout 180 xl create "$cfg" >"$out/$f-xl-create.txt" 2>&1; then
        check "${p}started ($what)" fail "$(tail -n 3 "$out/$f-xl-create.txt" | tr '\n' ' ')"
        timeout 60 xl destroy "$name" >/dev/null 2>&1
        return 1
    fi
    copy_domid=$(timeout 30 xl domid "$name" 2>/dev/null)
    check "${p}started ($what)" pass "domid $copy_domid"
    [ "$wait" -le 540 ] || keep=$((wait + 60))
    copy_console_pid=$(console_log "$name" "$out/$f-console.txt" "$keep" "[$name] " "$console")
    deadline=$((SECONDS + wait))
    while [ $SECONDS -lt $deadline ]; do
        n=$(xs_read "/local/domain/$copy_domid/data/xa-check/done") && [ -n "$n" ] && break
        timeout 10 xl domid "$name" >/dev/null 2>&1 || break
        sleep 2
    done
    metric "$f-reported-ms" $((($(now_us) - t0) / 1000)) "ms from xl create"
    pass_if "${p}reported its checks through xenstore" \
        "${n:-nothing after $((SECONDS - deadline + wait)) s (at most $wait s)} records" [ -n "$n" ]
    for ((i = 0; i < ${n:-0}; i++)); do
        rec=$(xs_read "/local/domain/$copy_domid/data/xa-check/$i")
        check "$(jq -r .name <<<"$rec")" "$(jq -r .result <<<"$rec")" "$(jq -r .detail <<<"$rec")"
    done
    save_results
}

# copy_stop NAME PREFIX: shut the domain down (checked; destroyed if it would not, so that
# the phases after this one start clean), stop keeping its console.
copy_stop() {
    shutdown_check "$1" "$out/$(prefix_stem "$2")-shutdown.txt" "${2}shut down (xl shutdown -w)"
    timeout 60 xl destroy "$1" >/dev/null 2>&1
    kill "$copy_console_pid" 2>/dev/null
    wait "$copy_console_pid" 2>/dev/null
}

# report_through_xenstore: (in the domain) its checks to the dom0, for copy_start; then it
# idles until the dom0 shuts it down. Before that, for the record on its console (the dom0
# keeps it): what failed, and why.
report_through_xenstore() {
    local line n=0
    {
        cat "$out/unit-journal.txt"
        grep '^xen' "$out/modules.txt"
        systemctl --failed --no-pager --plain --no-legend
        systemctl status --failed --no-pager -l -n 20
        journalctl -b -p warning --no-pager -n 60 -o short-monotonic
    } >/dev/console 2>&1
    while IFS= read -r line; do
        xenstore-write "data/xa-check/$n" "$line" || say "XA-ERROR xenstore-write data/xa-check/$n"
        n=$((n + 1))
    done < <(jq -c 'select(.kind == "check")' "$out/results.jsonl")
    xenstore-write data/xa-check/done "$n"
    say "XA-DOMAIN reported $n checks"
    sleep 900
}

# The deny boot's driver domain (xen-autoload.conf(5): driver-domain yes): its policy changed
# the admin's way before it starts: no deny rule, no pciback-hide, "driver-domain yes". Its
# own xa-check (xa.mode=drvdom, check_driver_domain_guest) reports through xenstore; then the
# test guest's vif is served by it (backend=) while this dom0 still has no xen-netback.
dd_name=xa-dd
# A name before the shipped default.conf: its "driver-domain no" used to win over this.
dd_conf=50-driver-domain.conf
driver_domain() {
    local mnt=/run/xa-dd cfg=$out/driver-domain.cfg p="driver domain: "
    mkdir -p "$mnt"
    if mount "$copy_disk" "$mnt" 2>"$out/driver-domain-mount.txt"; then
        rm -f "$mnt/etc/xen-autoload/90-deny-netback.conf" "$mnt/etc/xen-autoload/80-hide-nics.conf"
        printf '%s\n' "# This domain runs the network and block backends of other domains." \
            "driver-domain yes" >"$mnt/etc/xen-autoload/${dd_conf}"
        # xl devd needs hypercalls through privcmd, which Linux (6.1.0-57 here) blocks in a
        # domU without a target domain unless told otherwise; xen-autoload loads it with
        # the options of modprobe.d.
        printf '%s\n' "# xl devd (backend hotplug) in this driver domain needs hypercalls." \
            "options xen_privcmd unrestricted=1" >"$mnt/etc/modprobe.d/xen-driver-domain.conf"
        ls "$mnt/etc/xen-autoload" >"$out/driver-domain-policy.txt" 2>&1
        umount "$mnt"
    fi
    pass_if "${p}its disk prepared (driver-domain yes, no deny rule)" \
        "$copy_disk: $(tr '\n' ' ' <"$out/driver-domain-policy.txt" 2>/dev/null)" \
        grep -qx "$dd_conf" "$out/driver-domain-policy.txt"
    # The dom0's kernel and initramfs (the initramfs holds the dom0's policy: as a plain
    # domU it loads nothing there; the root's policy makes the domain a driver domain).
    printf '%s\n' "name = \"$dd_name\"" 'type = "pv"' "kernel = \"/boot/vmlinuz-$(uname -r)\"" \
        "ramdisk = \"/boot/initrd.img-$(uname -r)\"" \
        'extra = "console=hvc0 root=/dev/xvda rw xa.mode=drvdom"' 'memory = 640' 'vcpus = 1' \
        'driver_domain = 1' "disk = [ \"format=raw,vdev=xvda,access=rw,target=$copy_disk\" ]" \
        'on_poweroff = "destroy"' 'on_reboot = "destroy"' 'on_crash = "destroy"' >"$cfg"
    # It reported 77 s after xl create (2026-12-06, PV, the deny boot beside).
    copy_start "$dd_name" "$cfg" "$p" "xl create, driver_domain=1" 240 || return
    run_guest "$p" "$dd_name"
    cp /proc/modules "$out/modules-driver-domain-phase.txt"
    pass_if "${p}xen_netback still not loaded in this dom0" "" \
        not_loaded xen_netback "$out/modules-driver-domain-phase.txt"
    copy_stop "$dd_name" "$p"
}

# xa.mode=drvdom: this system as the deny boot's driver domain (driver_domain above). No
# result disk here: the records go to xenstore, and the domain stays up to serve the test
# guest's vif until the dom0 shuts it down.
check_driver_domain_guest() {
    local det st m line detail p="driver domain: "
    xen-autoload detect --json >"$out/detect.json" 2>&1
    det=$(jq -r '"\(.hypervisor) \(.role) \(.guest_type) driver_domain=\(.driver_domain)"' \
        "$out/detect.json" 2>/dev/null)
    # The detail says why when it fails: the policy files and what detect made of them.
    pass_if "${p}detect says xen domU PV, driver-domain yes" \
        "$det; /etc/xen-autoload: $(find /etc/xen-autoload -name '*.conf' -printf '%f ')$(jq -r \
            '.evidence[]? | select(.source == "policy") | "; policy: \(.fact)"' \
            "$out/detect.json" 2>/dev/null)" \
        [ "$det" = "xen domU PV driver_domain=true" ]
    st=$(unit_state)
    pass_if "${p}xen-autoload.service ran and succeeded" "$st" \
        unit_has LoadState=loaded Result=success ConditionResult=yes ExecMainStatus=0
    # The unit logs each module once it is in; journald may take a while to read the lines
    # under TCG: wait for both (60 s at most), then judge.
    local until=$((SECONDS + 60))
    while :; do
        unit_journal cat >"$out/unit-journal.txt" 2>&1
        [ "$(grep -cE '^xen-(netback|blkback): ' "$out/unit-journal.txt")" -lt 2 ] || break
        [ $SECONDS -lt $until ] || break
        sleep 2
    done
    cp /proc/modules "$out/modules.txt"
    for m in xen_netback xen_blkback; do
        line=$(grep -m1 -E "^${m//_/-}: loaded( as $m)?$" "$out/unit-journal.txt")
        detail="${line:-none in the journal of the unit: $(head -n 3 "$out/unit-journal.txt" |
            tr '\n' ' ' | cut -c1-200)}; $(grep -c '^xen' "$out/modules.txt") xen modules"
        [ -n "$line" ] && grep -q "^$m " "$out/modules.txt"
        verdict $? "${p}xen-autoload.service loaded $m (driver-domain role)" "$detail"
    done
    # The parameter is not in sysfs; without it the module says so in the kernel log.
    line=$(dmesg | grep -m1 'xen_privcmd: No target domain found')
    grep -q '^xen_privcmd ' "$out/modules.txt" && [ -z "$line" ]
    verdict $? "${p}xen_privcmd loaded with the modprobe.d option (unrestricted=1)" \
        "${line:-loaded, no 'blocking all hypercalls' in the kernel log}"
    # The bridge its vif-bridge script attaches guests' vifs to, and xl devd (the backend
    # hotplug daemon of a driver domain), in the foreground of its own session: nothing of
    # it can hold this script up.
    ip link add xenbr0 type bridge 2>/dev/null
    ip link set xenbr0 up
    # Its messages (a hotplug script's failure or timeout) also go to the console, which
    # the dom0 keeps (driver-domain-console.txt).
    # shellcheck disable=SC2016 # $1 is the inner shell's
    setsid -f sh -c 'xl devd -F 2>&1 | tee "$1" >/dev/console' sh "$out/xl-devd.txt" </dev/null
    sleep 2
    line=$(pgrep -a -f '(^|/)xl devd' | head -n 1)  # /usr/sbin/xl execs Xen's own xl
    pass_if "${p}xl devd running (backend hotplug)" \
        "${line:-not running: $(head -c 300 "$out/xl-devd.txt" | tr '\n' ' ')}" [ -n "$line" ]
    check_clean "$p"
    report_through_xenstore
}

# A plain guest of kind KIND (pvh, hvm) booting this system: what a user of such a guest
# meets. The dom0 gives it, on its command line, what it must find: its kind, this Xen's
# version (xl info: another source than the guest's detection) and the address of this dom0
# on the bridge its vif is attached to. Its marker (its boot id, written to its root through
# xvda) must then be on the disk this dom0 served. Memory: 512 MB, with the dom0's 1 GB in
# the boot's 3 GB (the HVM guest's QEMU runs in the dom0's 1 GB).
# hvm: an HVM guest with PV drivers, as such guests run: QEMU (qemu-system-xen, the image's
# XA_IMAGE_HVM=1) as its device model in this dom0, hvmloader and SeaBIOS, the kernel and
# initramfs loaded by QEMU (direct kernel boot); Xen's platform PCI device lets its kernel
# unplug the emulated IDE disk that mirrors xvda, so that its root is xen-blkfront's xvda;
# its vif is PV only (type=vif: no emulated NIC); no display (vga none, no VNC or SDL),
# no emulated serial port: its console is the PV console (hvc0), read with xl console -t pv.
domu_net=10.88.0
# What detect's JSON must agree on, live and from the captured fixture root.
detect_fields='"\(.hypervisor) \(.role) \(.guest_type) \(.xen_version)"'

# capture_own_fixture NAME: this system's platform facts as a fixture root in
# $out/fixtures/NAME (capture-fixture.sh, for tests/fixtures/: out/boot/BOOT/fixtures/NAME),
# and the check that detect says the same from it as it says live.
capture_own_fixture() {
    local dest=$out/fixtures/$1 said got
    said=$(xen-autoload detect --json 2>/dev/null | jq -r "$detect_fields" 2>/dev/null)
    mkdir -p "$out/fixtures"
    /usr/local/lib/xa-check/capture-fixture "$dest" >"$out/fixture-capture.txt" 2>&1
    got=$(xen-autoload detect --root "$dest" --json 2>&1 | jq -r "$detect_fields" 2>&1)
    [ -n "$said" ] && [ "$got" = "$said" ]
    verdict $? "its captured fixture root gives detect its live answer (detect --root)" \
        "live: ${said:-nothing}; from $dest: $(head -c 200 <<<"$got")"
}
domu_guest() {
    local kind=$1 name=xa-$1 p="$1 guest: " cfg=$out/$1-guest.cfg ver marker seen said got
    # shellcheck disable=SC2034 # set by read_device_states, read by check_connected
    local mnt=/run/xa-domu vif_f vif_b vbd_f vbd_b
    ver=$(timeout 30 xl info 2>/dev/null | sed -n 's/^xen_version *: *//p')
    guest_setup >/dev/null
    ip addr add "$domu_net.1/24" dev xenbr0 2>/dev/null
    local vif_type='' wait=540 console=''
    printf '%s\n' "name = \"$name\"" "type = \"$kind\"" "kernel = \"/boot/vmlinuz-$(uname -r)\"" \
        "ramdisk = \"/boot/initrd.img-$(uname -r)\"" \
        "extra = \"console=hvc0 root=/dev/xvda rw xa.mode=domu xa.domu=$kind xa.xen-version=$ver xa.dom0-ip=$domu_net.1\"" \
        'memory = 512' 'vcpus = 1' >"$cfg"
    if [ "$kind" = hvm ]; then
        printf '%s\n' 'device_model_version = "qemu-xen"' 'xen_platform_pci = 1' 'vga = "none"' \
            'vnc = 0' 'sdl = 0' >>"$cfg"
        vif_type=,type=vif console=pv
        # A guest also running its firmware and a device model in this dom0, under the
        # same emulation as the PVH guest (reported 274-561 s after xl create): more time.
        wait=780
    fi
    printf '%s\n' "vif = [ \"bridge=xenbr0,mac=00:16:3e:58:41:11$vif_type\" ]" \
        "disk = [ \"format=raw,vdev=xvda,access=rw,target=$copy_disk\" ]" \
        'on_poweroff = "destroy"' 'on_reboot = "destroy"' 'on_crash = "destroy"' >>"$cfg"
    # A PVH guest under TCG is slower than a PV one (nested paging emulated): its systemd
    # started 188 s after xl create with a package build beside (2026-12-06).
    copy_start "$name" "$cfg" "$p" "xl create, type $kind" "$wait" "$console" || return
    read_device_states "$copy_domid"
    check_connected "$p"
    marker=$(xs_read "/local/domain/$copy_domid/data/xa-check/marker")
    said=$(xs_read "/local/domain/$copy_domid/data/xa-check/detect")
    copy_stop "$name" "$p"
    mkdir -p "$mnt" "$out/fixtures"
    if mount -o ro "$copy_disk" "$mnt" 2>"$out/$kind-guest-mount.txt"; then
        seen=$(head -c 200 "$mnt/var/lib/xa-check/domu-marker" 2>&1)
        cp -a "$mnt/var/lib/xa-check/fixture-$kind-domu" "$out/fixtures/$kind-domu" 2>>"$out/$kind-guest-mount.txt"
        umount "$mnt"
    fi
    [ -n "$marker" ] && [ "$seen" = "$marker" ]
    verdict $? "${p}its marker, written through xvda, is on the disk this dom0 served" \
        "guest said '${marker:-nothing}', the disk has '${seen:-nothing: $(head -c 200 "$out/$kind-guest-mount.txt")}'"
    # Its platform facts, captured in it (capture-fixture.sh, for tests/fixtures/): enough
    # for detect to say there what it said live.
    got=$(xen-autoload detect --root "$out/fixtures/$kind-domu" --json 2>&1 | jq -r "$detect_fields" 2>&1)
    [ -n "$said" ] && [ "$got" = "$said" ]
    verdict $? "${p}its captured fixture root gives detect its live answer (detect --root)" \
        "live: ${said:-nothing}; from $out/fixtures/$kind-domu: $(head -c 200 <<<"$got")"
}

# xa.mode=domu: this system as the plain guest of domu_guest (xa.domu= its kind: pvh, hvm).
# Nothing of ours may load here: no backend, no control module (a guest is not a driver
# domain).
check_domu_guest() {
    local kind want ver dom0_ip p rc det st loaded mods src marker nic d
    kind=$(cmdline_arg xa.domu)
    ver=$(cmdline_arg xa.xen-version)
    dom0_ip=$(cmdline_arg xa.dom0-ip)
    want="xen domU ${kind^^} $ver"
    p="$kind guest: "
    xen-autoload detect --json >"$out/detect.json" 2>"$out/detect.err"
    rc=$?
    det=$(jq -r "$detect_fields" "$out/detect.json" 2>/dev/null)
    pass_if "${p}detect says xen domU ${kind^^} and the Xen version of the dom0's xl info" \
        "exit $rc: ${det:-unparsable} (want $want); $(jq -r '[.evidence[]? | "\(.source): \(.fact)"] |
            join("; ")' "$out/detect.json" 2>/dev/null | cut -c1-400)" [ "$rc:$det" = "0:$want" ]
    st=$(unit_state)
    pass_if "${p}xen-autoload.service ran and succeeded" "$st" \
        unit_has LoadState=loaded Result=success ConditionResult=yes ExecMainStatus=0
    unit_journal cat >"$out/unit-journal.txt" 2>&1
    cp /proc/modules "$out/modules.txt"
    # Ours: every line under our name, the unit's and the initramfs's (kernel log). The
    # backends: nobody may have loaded them without a guest of this domain. Other Xen
    # modules are not ours to judge: Debian's xen init script loads xenfs, xen_evtchn,
    # xen_gntdev and xen_privcmd in every domain before it finds that it is no dom0.
    loaded=$(journalctl -b -o cat --no-pager SYSLOG_IDENTIFIER=xen-autoload 2>&1 |
        grep -E ': loaded( as [a-z0-9_]+)?$' | head -n 3 | tr '\n' ' ')
    mods=$(grep -oE '^(xen_netback|xen_blkback|xen_pciback|xen_scsiback|xen_acpi_processor) ' \
        "$out/modules.txt" | tr -d '\n')
    [ -z "$loaded" ] && [ -z "$mods" ]
    verdict $? "${p}xen-autoload loaded nothing, no backend is loaded (a plain domU)" \
        "ours: ${loaded:-no 'loaded' line}; backends in: ${mods:-none}; other xen modules: $(
            grep -oE '^xen[a-z_]* ' "$out/modules.txt" | tr -d '\n')"
    # Its root is the copy of the system on the dom0's third disk, through blkfront.
    src=$(findmnt -n -o SOURCE /)
    marker="$kind $(cat /proc/sys/kernel/random/boot_id)"
    mkdir -p /var/lib/xa-check
    printf '%s\n' "$marker" >/var/lib/xa-check/domu-marker && sync && [ "$src" = /dev/xvda ]
    verdict $? "${p}root on xvda (blkfront), a marker written and synced through it" \
        "root $src; marker '$marker'"
    xenstore-write data/xa-check/marker "$marker"
    # Its vif (netfront: the xenbus driver "vif") on the dom0's bridge.
    nic=''
    for d in /sys/class/net/*; do
        [[ $(readlink -f "$d/device/driver" 2>/dev/null) != */bus/xen/drivers/vif ]] || nic=${d##*/}
    done
    if [ -n "$nic" ]; then
        ip addr add "${dom0_ip%.*}.2/24" dev "$nic"
        ip link set "$nic" up
        timeout 90 busybox ping -c 3 -w 60 "$dom0_ip" >"$out/ping.txt" 2>&1
    else
        ls -l /sys/class/net/ >"$out/ping.txt" 2>&1
        false
    fi
    verdict $? "${p}its vif (netfront) reaches the dom0 ($dom0_ip, ping)" \
        "${nic:-no netfront interface}: $(tail -n 2 "$out/ping.txt" | tr '\n' ' ' | cut -c1-200)"
    check_clean "$p"
    xenstore-write data/xa-check/detect "$det"
    /usr/local/lib/xa-check/capture-fixture "/var/lib/xa-check/fixture-$kind-domu" &&
        find "/var/lib/xa-check/fixture-$kind-domu" >"$out/fixture-files.txt" && sync
    report_through_xenstore
}
