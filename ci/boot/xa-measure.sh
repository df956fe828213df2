# shellcheck shell=bash
# Stage 6, module loading, sourced by xa-check in a dom0 booted with xa.mode=measure and
# systemd.mask= of xen.service, xendomains.service and xen-autoload.service (nothing but the
# initramfs hook preloads the set; it is unloaded first).
# Loads the dom0 set with each method, unloading everything in between:
#   xen-autoload load --role dom0 | a modprobe shell loop | systemd-modules-load |
#   modprobe -a | the kernel's own finit_module time, summed (strace -T on modprobe -a)
# and records per-repetition and median wall times, plus the loading goals.
# Uses check/metric/goal/now_us/say and $out from xa-check.
: "${out:?sourced by xa-check}"

measure_reps=5

# The dom0 set, as our planner sees it: every module it would load or has loaded.
measure_module_set() {
    xen-autoload plan --json --role dom0 2>/dev/null |
        jq -r '.modules[] | select(.state=="loaded" or .state=="loadable") | .name' |
        tr '-' '_' | sort -u
}

# Unload every xen module (the set and what it pulled in, e.g. xen_privcmd under xenfs).
# Several passes: a module goes only once nothing uses it. Returns 1 if any remains.
unload_all() {
    local left
    mountpoint -q /proc/xen && umount /proc/xen
    for _ in 1 2 3; do
        left=$(awk '$1 ~ /^xen/ { print $1 }' /proc/modules)
        [ -n "$left" ] || return 0
        # shellcheck disable=SC2086
        modprobe -r -a $left 2>/dev/null
    done
    left=$(awk '$1 ~ /^xen/ { print $1 }' /proc/modules | tr '\n' ' ')
    [ -z "$left" ] || { echo "$left"; return 1; }
}

# Every module of the set that can load here (see "loadable" in measure_loading).
all_loaded() {
    local m
    for m in "${loadable[@]}"; do grep -q "^$m " /proc/modules || return 1; done
}

# One method, one repetition: prints wall ms; fails if the set did not end up loaded.
method_autoload() { xen-autoload load --role dom0 >>"$out/measure.log" 2>&1; }
method_loop() {
    local m
    for m in "${mods[@]}"; do modprobe "$m"; done
}
method_sml() { /lib/systemd/systemd-modules-load "$out/measure-modules.conf"; }
method_modprobe_a() { modprobe -a "${mods[@]}"; }

measure_loading() {
    local -a mods
    mapfile -t mods < <(measure_module_set)
    if [ ${#mods[@]} -eq 0 ]; then
        check "dom0 module set from xen-autoload plan" fail "empty or plan failed"
        return
    fi
    check "dom0 module set from xen-autoload plan" pass "${mods[*]}"
    printf '%s\n' "${mods[@]}" >"$out/measure-modules.conf"
    # Nothing may reload them behind our back: our udev rules are masked for this boot
    # (the unit and Debian's xen.service are masked on the kernel command line).
    local rules
    mkdir -p /run/udev/rules.d
    for rules in /lib/udev/rules.d/*xen-autoload*.rules /usr/lib/udev/rules.d/*xen-autoload*.rules; do
        [ -e "$rules" ] && ln -sf /dev/null "/run/udev/rules.d/$(basename "$rules")"
    done
    udevadm control --reload

    local left
    if ! left=$(unload_all); then
        check "modules unloaded before measuring" fail "still loaded: $left"
        return
    fi
    # Warm the page cache once so the first method does not pay for the disk reads. What
    # loads here is what every method must load; the rest (e.g. xen-acpi-processor: ENODEV
    # without ACPI processor data under QEMU) is still asked for by every method.
    modprobe -a "${mods[@]}" 2>/dev/null
    local -a loadable=() unloadable=()
    local m
    for m in "${mods[@]}"; do
        if grep -q "^$m " /proc/modules; then loadable+=("$m"); else unloadable+=("$m"); fi
    done
    unload_all >/dev/null

    local rep method t0 t1 ok=1 detail=
    local -A walls
    for ((rep = 1; rep <= measure_reps; rep++)); do
        for method in autoload loop sml modprobe_a strace; do
            if ! left=$(unload_all); then
                ok=0
                detail+="rep $rep before $method: $left; "
                continue
            fi
            t0=$(now_us)
            if [ $method = strace ]; then
                strace -f -qq -T -e trace=finit_module,init_module -o "$out/strace-$rep.txt" \
                    modprobe -a "${mods[@]}"
            else
                "method_$method"
            fi
            t1=$(now_us)
            if [ $method = strace ]; then
                # The kernel's own time: the sum of the syscalls' durations, <seconds>.
                walls[$method]+="$(sed -n 's/.*<\([0-9.]*\)>$/\1/p' "$out/strace-$rep.txt" |
                    awk '{ s += $1 } END { printf "%d", s * 1000 }') "
            else
                walls[$method]+="$(((t1 - t0) / 1000)) "
            fi
            if ! all_loaded; then
                ok=0
                detail+="rep $rep $method did not load all of: ${loadable[*]}; "
            fi
        done
    done
    unload_all >/dev/null
    if [ $ok = 1 ]; then
        check "each method loaded the whole set from a clean state" pass \
            "${#loadable[@]} of ${#mods[@]} load here (not: ${unloadable[*]:-none}), $measure_reps repetitions"
    else
        check "each method loaded the whole set from a clean state" fail "$detail"
    fi

    local -A median
    local name
    for method in autoload loop sml modprobe_a strace; do
        case $method in
            autoload) name=load-xen-autoload ;;
            loop) name=load-modprobe-loop ;;
            sml) name=load-systemd-modules-load ;;
            modprobe_a) name=load-modprobe-a ;;
            strace) name=load-kernel-finit-sum ;;
        esac
        median[$method]=$(tr ' ' '\n' <<<"${walls[$method]}" | grep . | sort -n |
            awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : -1) }')
        metric "$name-ms" "${median[$method]}" "ms median of: ${walls[$method]% }"
    done

    # Goals: load wall <= the kernel's own sequential finit time (only possible
    # by loading in parallel), and >= 2x faster than systemd-modules-load.
    local ours=${median[autoload]} kernel=${median[strace]} sml=${median[sml]} ratio
    ratio=$(awk -v a="$sml" -v b="$ours" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    metric load-speedup-vs-systemd-modules-load "$ratio" x
    goal "xen-autoload load wall vs the kernel's summed finit_module time" \
        "$ours" "<=" "$kernel" ms
    goal "xen-autoload load speed-up over systemd-modules-load" "$ratio" ">=" 2 x
}
