#!/bin/busybox sh
# shellcheck shell=dash
# /init of the PV test guest: load the frontends (unless built in), wait for the vbd and
# the vif, record what it saw at the start of xvda (the dom0 reads it back after shutdown),
# then idle until the dom0 shuts it down (xl shutdown -> /sbin/poweroff).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "XA-GUEST: init started"
# The frontends that are modules of this kernel (make-guest-initramfs.sh lists them; built-in
# ones are not listed and need nothing).
while read -r mod; do
    insmod "/lib/modules/$mod.ko" || echo "XA-GUEST: insmod $mod failed"
done </etc/modules
blk=missing net=missing
i=0
while [ $i -lt 120 ]; do
    [ -b /dev/xvda ] && blk=ok
    [ -e /sys/class/net/eth0 ] && net=ok
    [ $blk = ok ] && [ $net = ok ] && break
    sleep 0.5
    i=$((i + 1))
done
[ $net = ok ] && ip link set eth0 up
# The kernel release too: the dom0 checks that the guest ran the dom0's own kernel.
result="XA-GUEST-RESULT blk=$blk net=$net kernel=$(uname -r)"
echo "$result"
if [ $blk = ok ]; then
    printf '%s\n' "$result" | dd of=/dev/xvda bs=512 conv=sync 2>/dev/null
    sync
fi
touch /run/xa-guest-done
# Idle without waking up: a guest's fork and exec cost the emulated CPU, and eight guests
# each starting `sleep 1` every second left the dom0 of the storm a fraction of it.
while :; do sleep 100000; done
