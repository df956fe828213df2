#!/bin/bash
# shellcheck disable=SC2154 # initdir, moddir and kernel are set by dracut
# dracut module of xen-autoload: the same content as the initramfs-tools hook (program,
# libraries, policy, udev rules, the Xen modules the policy names plus the frontends) and
# the same early load, as a pre-udev hook so that xen-pciback claims the devices listed in
# xen-pciback.hide= before udev's coldplug binds their native drivers.

# Included whenever xen-autoload is installed, also with --hostonly: the same kernel image
# boots natively, as dom0 and as a domU, and the hook is a no-op on native boots, so an image
# built on one kind of boot must still work on the others.
check() {
    require_binaries /usr/sbin/xen-autoload timeout || return 1
    return 0
}

depends() {
    # udev in the initramfs (the rules call the helper for backend devices).
    echo udev-rules
    return 0
}

# The modules the policy asks for in ROLE (names only, [A-Za-z0-9_-]; denied ones left
# out), planned for the kernel of this image ($kernel, maybe not the running one). A plan
# that fails (a policy error) fails the image with the program's message, as the
# initramfs-tools hook does: an image without the role's drivers would boot without them.
xa_plan_names() {
    printf '%s' "$1" | tr -d '\n' | sed 's/[{}]/\n/g' \
        | grep -v '"state": *"denied"' \
        | sed -n 's/.*"name": *"\([A-Za-z0-9_-]*\)".*/\1/p'
}

installkernel() {
    local role json err
    local -a mods=(xen-blkfront xen-netfront xen-scsifront xen-pcifront)
    for role in dom0 domU driver-domain; do
        err=$(mktemp)
        if ! json=$(/usr/sbin/xen-autoload plan --json --kernel "$kernel" --role "$role" 2> "$err"); then
            derror "xen-autoload: cannot plan the $role modules for kernel $kernel: $(cat "$err")"
            derror "xen-autoload: fix the file named above (xen-autoload.conf(5)), then run 'dracut -f --kver $kernel'"
            rm -f "$err"
            return 1
        fi
        rm -f "$err"
        mapfile -t -O "${#mods[@]}" mods < <(xa_plan_names "$json")
    done
    # hostonly='': --hostonly would keep only modules loaded on the build host; these are
    # needed on the other kinds of boot of the same image. Missing names are skipped.
    hostonly='' instmods "${mods[@]}"
}

install() {
    local dir conf rules
    inst_multiple /usr/sbin/xen-autoload timeout
    # libkmod is dlopen()ed on first use (src/autoload/lib/dynlib.h): invisible to ldd.
    inst_libdir_file "libkmod.so.2"
    # The policy, with the program's precedence rules; /dev/null links keep a name disabled.
    for dir in /usr/lib/xen-autoload /etc/xen-autoload; do
        [[ -d $dir ]] || continue
        for conf in "$dir"/*.conf; do
            if [[ -L $conf && "$(readlink "$conf")" == /dev/null ]]; then
                mkdir -p "${initdir}${dir}"
                ln -sf /dev/null "${initdir}${conf}"
            elif [[ -f $conf ]]; then
                inst_simple "$conf"
            fi
        done
    done
    for rules in /etc/udev/rules.d/70-xen-autoload.rules /usr/lib/udev/rules.d/70-xen-autoload.rules \
        /lib/udev/rules.d/70-xen-autoload.rules; do
        if [[ -e $rules ]]; then
            inst_simple "$rules"
            break
        fi
    done
    # Before systemd-udevd (dracut-pre-udev.service) or, without systemd, before udev starts.
    inst_hook pre-udev 00 "$moddir/xen-autoload-early.sh"
}
