#!/bin/bash
# Attach a partitioned disk image to a loop device with its partition devices, and print
# the loop device. losetup -P alone is not enough on every CI machine: on some kernels the
# partition scan at attach time finds nothing (no loopNpK in sysfs) while partx -a then
# adds them; and where devtmpfs does not make the nodes, they are made from sysfs.
# Usage: loop-attach.sh IMAGE PARTITIONS   (PARTITIONS: how many must exist)
set -euo pipefail
img=${1:?usage: loop-attach.sh IMAGE PARTITIONS} parts=${2:?usage: loop-attach.sh IMAGE PARTITIONS}
loop=$(losetup -P --show -f "$img")
name=$(basename "$loop")
last=/sys/block/$name/${name}p$parts
[ -e "$last" ] || partx -a "$loop" 2>/dev/null || true
for _ in $(seq 50); do [ -e "$last" ] && break; sleep 0.1; done
for ((i = 1; i <= parts; i++)); do
    sys=/sys/block/$name/${name}p$i
    [ -e "$sys" ] || { losetup -d "$loop"; echo "loop-attach: $loop: no partition $i" >&2; exit 1; }
    [ -b "${loop}p$i" ] || mknod "${loop}p$i" b "$(cut -d: -f1 "$sys/dev")" "$(cut -d: -f2 "$sys/dev")"
done
echo "$loop"
