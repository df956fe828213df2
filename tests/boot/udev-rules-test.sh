#!/bin/bash
# 70-xen-autoload.rules through the real udev rule engine (`udevadm test`; systemd 252 has
# no `udevadm verify`), against synthetic devices: in a private mount namespace a scratch
# sysfs is bind-mounted over /sys (SYSTEMD_DEVICE_VERIFY_SYSFS=0: sd-device's documented switch
# for tests that lets it accept a sysfs that is not sysfs) and a rules directory holding only our rules, udev's own
# 80-drivers.rules (the generic MODALIAS load) and 99-systemd.rules (TAG=systemd devices)
# over the rules directories. Checks:
#   dom0's xen/xenbus_backend (subsystem misc): TAG systemd, SYSTEMD_WANTS=xen-autoload.service,
#     for "add" (boot and `udevadm trigger` coldplug replay) and not for "remove";
#   a backend device vif-3-0: the helper is RUN directly (no shell) with MODALIAS and
#     DEVPATH, and udev's own "kmod load" builtin does not run for it; nothing for "remove";
#   a frontend/other device is left alone.
# Usage: udev-rules-test.sh SOURCE_DIR      (root; runs everything in its own namespace)
set -euo pipefail
src=$1
if [ "${XA_IN_NS:-}" != 1 ]; then
    exec unshare --mount --propagation private env XA_IN_NS=1 "$0" "$@"
fi
tmp=$(mktemp -d /tmp/xa-udev-test.XXXXXX)
trap 'umount "$tmp/null" 2>/dev/null; [ -n "${XA_KEEP:-}" ] || rm -rf "$tmp"' EXIT
# shellcheck source=../check.sh source-path=SCRIPTDIR
. "$src/tests/check.sh"

# Scratch sysfs: what the kernel shows for these devices (layout measured in a dom0).
sys=$tmp/sys
mkdir -p "$sys/class/misc" "$sys/bus/xen-backend/devices" "$sys/bus/xen/devices" \
    "$sys/devices/virtual/misc/xen!xenbus_backend" "$sys/devices/xen-backend/vif-3-0" "$sys/devices/vif-0"
ln -s ../../../../class/misc "$sys/devices/virtual/misc/xen!xenbus_backend/subsystem"
printf 'MAJOR=10\nMINOR=123\nDEVNAME=xen/xenbus_backend\n' >"$sys/devices/virtual/misc/xen!xenbus_backend/uevent"
ln -s ../../bus/xen-backend "$sys/devices/xen-backend/vif-3-0/subsystem"
printf 'XENBUS_TYPE=vif\nXENBUS_PATH=backend/vif/3/0\nXENBUS_BASE_PATH=backend\nMODALIAS=xen-backend:vif\n' \
    >"$sys/devices/xen-backend/vif-3-0/uevent"
ln -s ../../bus/xen "$sys/devices/vif-0/subsystem"
printf 'XENBUS_TYPE=vif\nXENBUS_PATH=device/vif/0\nMODALIAS=xen:vif\n' >"$sys/devices/vif-0/uevent"

rules=$tmp/rules
mkdir -p "$rules" "$tmp/empty"
cp "$src/udev-rules/70-xen-autoload.rules" "$rules/"
cp /usr/lib/udev/rules.d/80-drivers.rules /usr/lib/udev/rules.d/99-systemd.rules "$rules/"
mount --bind "$sys" /sys
# udevadm test writes its database (/run/udev/data) and /dev/char links: keep them in this
# namespace. /dev gets a tmpfs holding only /dev/null.
touch "$tmp/null"
mount --bind /dev/null "$tmp/null"
mount -t tmpfs tmpfs /dev
touch /dev/null
mount --bind "$tmp/null" /dev/null
mount --bind "$rules" /usr/lib/udev/rules.d
[ -d /etc/udev/rules.d ] && mount --bind "$tmp/empty" /etc/udev/rules.d

run_test() { # run_test ACTION DEVPATH OUTFILE     (each run with an empty udev database;
    #                                           WATCHING=1: the daemon's watch file exists)
    mountpoint -q /run && umount /run
    mount -t tmpfs tmpfs /run
    if [ "${WATCHING:-0}" = 1 ]; then
        mkdir -p "${watch_file%/*}"
        echo 1 >"$watch_file"
    fi
    SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action="$1" "$2" >"$3" 2>&1 || { echo "udevadm test $1 $2 failed:" >&2; cat "$3" >&2; return 1; }
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }

run_test add "/sys/devices/virtual/misc/xen!xenbus_backend" "$tmp/misc-add"
check "rules parsed without complaint" lacks "$tmp/misc-add" "70-xen-autoload.rules:"
check "xenbus_backend add: TAG systemd" grep -qE '^TAGS=.*:systemd:' "$tmp/misc-add"
check "xenbus_backend add: SYSTEMD_WANTS" has "$tmp/misc-add" "SYSTEMD_WANTS=xen-autoload.service"
# `udevadm trigger` without --action replays "change": the unit must be pulled in then too.
run_test change "/sys/devices/virtual/misc/xen!xenbus_backend" "$tmp/misc-change"
check "xenbus_backend change (udevadm trigger): SYSTEMD_WANTS" has "$tmp/misc-change" "SYSTEMD_WANTS=xen-autoload.service"
run_test remove "/sys/devices/virtual/misc/xen!xenbus_backend" "$tmp/misc-remove"
check "xenbus_backend remove: no SYSTEMD_WANTS" lacks "$tmp/misc-remove" "SYSTEMD_WANTS=xen-autoload.service"

run_test add /sys/devices/xen-backend/vif-3-0 "$tmp/vif-add"
check "vif-3-0 add: helper run directly with MODALIAS and DEVPATH" \
    has "$tmp/vif-add" "run: '/usr/sbin/xen-autoload udev xen-backend:vif /devices/xen-backend/vif-3-0'"
# The helper is the only loader of backend drivers: udev's generic modalias load (80-drivers
# .rules, "kmod load") must not run for the device, or it would load what the policy denies.
check "vif-3-0 add: udev's generic kmod load does not run" lacks "$tmp/vif-add" "run: 'kmod load"
check "vif-3-0 add: MODALIAS moved aside (XEN_AUTOLOAD_MODALIAS)" \
    has "$tmp/vif-add" "XEN_AUTOLOAD_MODALIAS=xen-backend:vif"
check "vif-3-0 add: no shell in between" lacks "$tmp/vif-add" "/bin/sh"
# While the daemon watches (its watch file, kWatchFilePath in daemon.h), it handles the
# device: no helper, and still no generic kmod load.
watch_file=$(sed -n 's/.*kWatchFilePath = "\([^"]*\)".*/\1/p' "$src/src/autoload/lib/daemon.h")
check "watch file path from daemon.h ($watch_file)" test -n "$watch_file"
check "the rules test the same path" grep -qF "TEST!=\"$watch_file\"" "$rules/70-xen-autoload.rules"
WATCHING=1 run_test add /sys/devices/xen-backend/vif-3-0 "$tmp/vif-add-watching"
check "vif-3-0 add while the daemon watches: no helper" lacks "$tmp/vif-add-watching" "xen-autoload udev"
check "vif-3-0 add while the daemon watches: udev's generic kmod load does not run" \
    lacks "$tmp/vif-add-watching" "run: 'kmod load"
check "vif-3-0 add while the daemon watches: MODALIAS moved aside" \
    has "$tmp/vif-add-watching" "XEN_AUTOLOAD_MODALIAS=xen-backend:vif"
run_test remove /sys/devices/xen-backend/vif-3-0 "$tmp/vif-remove"
check "vif-3-0 remove: no helper" lacks "$tmp/vif-remove" "xen-autoload udev"

run_test add /sys/devices/vif-0 "$tmp/front-add"
check "frontend vif-0: not ours" lacks "$tmp/front-add" "run: '/usr/sbin/xen-autoload"
check "frontend vif-0: no SYSTEMD_WANTS" lacks "$tmp/front-add" "SYSTEMD_WANTS"

[ "$fails" -eq 0 ] || { echo "udev-rules-test: $fails check(s) failed" >&2; exit 1; }
echo "udev-rules-test: all checks passed"
