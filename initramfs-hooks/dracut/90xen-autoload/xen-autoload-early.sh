#!/bin/sh
# dracut pre-udev hook of xen-autoload (sourced by dracut's hook runner): load the drivers
# this domain's role needs before udev's coldplug. A no-op on native boots.

# Xen is present when the kernel made /proc/xen (xenbus_init, any Xen domain) or
# /sys/hypervisor/type (Xen sys-hypervisor): the same test as xen-autoload.service.
if { [ -d /proc/xen ] || [ -e /sys/hypervisor/type ]; } && [ -x /usr/sbin/xen-autoload ]; then
    # shellcheck source=/dev/null
    type warn > /dev/null 2>&1 || . /lib/dracut-lib.sh
    # Every wait has a deadline: 30 s for the whole load (each module also has its own).
    # Messages go to the kernel log: journald imports it later, so `journalctl -b -t
    # xen-autoload` tells what the initramfs loaded.
    XEN_AUTOLOAD_LOG_TARGET=kmsg timeout 30 /usr/sbin/xen-autoload load
    xa_rc=$?
    case $xa_rc in
        0) ;;
        124) warn "xen-autoload: load did not finish within 30 s, going on" ;;
        *) warn "xen-autoload: load exited with status $xa_rc, going on" ;;
    esac
    unset xa_rc
fi
