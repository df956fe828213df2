#!/bin/bash
# What a process costs in a Xen PV dom0 under QEMU TCG, against the same kernel booted
# natively: why package triggers (mkinitramfs runs thousands of short processes) take
# minutes in stage admin's dom0. Each system boots the image's dom0 kernel with a tiny
# initramfs (the host's static busybox and an /init) that times COUNT runs of /bin/true
# (fork and exec of a static binary) and COUNT/3 of `sh -c` from /proc/uptime, prints them
# and powers off. Three boots, one at a time, one vCPU each, on the same CPU model as stage
# boot's dom0 (max,-smap): native, Xen with the CI's Xen command line, and Xen with the
# speculation mitigations off on top (spec-ctrl=no xpti=no pv-l1tf=no), the obvious
# suspect of a PV process's cost.
# Needs an image of stage image (XA_OUT=DIR ci/stage-image.sh bookworm) and busybox-static.
# Usage: XA_OUT=DIR bench/exec-cost.sh [COUNT]   (default 300)
# Prints one row per system: milliseconds per exec, per `sh -c`.
# Exit: 0 when every boot printed its figures, 1 when one did not, 2 on usage errors.
set -euo pipefail
: "${XA_OUT:?XA_OUT=DIR: the stage image output whose kernel and Xen to boot}"
count=${1:-300}
[[ $count =~ ^[1-9][0-9]{1,4}$ ]] || { echo "exec-cost: '$count': not a count 10-99999" >&2; exit 2; }
img=$XA_OUT/image
for f in "$img/xen" "$img/vmlinuz" /bin/busybox; do
    [ -f "$f" ] || { echo "exec-cost: $f missing (stage image; busybox-static)" >&2; exit 2; }
done
file -L /bin/busybox | grep -q 'statically linked' ||
    { echo "exec-cost: /bin/busybox is not the static one (apt-get install busybox-static)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
cp /bin/busybox "$tmp/root/bin/"
# The /init: $count is this script's; everything else is the initramfs shell's.
cat >"$tmp/root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
up() { cut -d' ' -f1 /proc/uptime; }
t0=\$(up); i=0
while [ \$i -lt $count ]; do /bin/true; i=\$((i + 1)); done
t1=\$(up); i=0
while [ \$i -lt $((count / 3)) ]; do /bin/busybox sh -c 'echo x >/dev/null'; i=\$((i + 1)); done
t2=\$(up)
echo "EXEC-COST \$t0 \$t1 \$t2"
poweroff -f
EOF
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/init.cpio.gz"

xen_cmdline="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M"
common=(-machine pc -accel tcg -smp 1 -m 3072 -nodefaults -display none -monitor none
    -no-reboot -nic none)
# boot NAME: one system; its console in $tmp/NAME.log
boot() {
    local cmd
    # shellcheck disable=SC2054 # commas inside QEMU option values
    case $1 in
        native) cmd=(-cpu max -kernel "$img/vmlinuz" -initrd "$tmp/init.cpio.gz"
            -append "console=ttyS0 rdinit=/init") ;;
        xen) cmd=(-cpu max,-smap -kernel "$img/xen" -append "$xen_cmdline"
            -initrd "$img/vmlinuz console=hvc0 rdinit=/init,$tmp/init.cpio.gz") ;;
        xen-nospec) cmd=(-cpu max,-smap -kernel "$img/xen"
            -append "$xen_cmdline spec-ctrl=no xpti=no pv-l1tf=no"
            -initrd "$img/vmlinuz console=hvc0 rdinit=/init,$tmp/init.cpio.gz") ;;
    esac
    timeout 900 qemu-system-x86_64 "${common[@]}" -serial "file:$tmp/$1.log" "${cmd[@]}" \
        </dev/null >"$tmp/$1.qemu.log" 2>&1 || true
}
status=0
printf '%-11s %12s %12s\n' system "ms/exec" "ms/sh -c"
for sys in native xen xen-nospec; do
    boot "$sys"
    read -r t0 t1 t2 < <(grep -a -m1 '^EXEC-COST ' "$tmp/$sys.log" | cut -d' ' -f2-) || true
    if [ -z "${t2:-}" ]; then
        printf '%-11s %s\n' "$sys" "no figures: $(tail -c 300 "$tmp/$sys.log" | tr '\n' ' ')"
        status=1
        continue
    fi
    awk -v s="$sys" -v a="$t0" -v b="$t1" -v c="$t2" -v n="$count" \
        'BEGIN { printf "%-11s %12.1f %12.1f\n", s, (b - a) * 1000 / n, (c - b) * 1000 / int(n / 3) }'
    unset t0 t1 t2
done
exit "$status"
