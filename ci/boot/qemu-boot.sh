#!/bin/bash
# Boot the CI image once under qemu-system-x86_64 (TCG; KVM is not usable on the CI
# machines), or with -a arm64 under qemu-system-aarch64 (the virt machine with EL2 and
# GICv3, a Cortex-A57: Xen from -kernel, the dom0's kernel and initramfs from QEMU's
# guest-loader device, as Xen's own CI boots Arm), either Xen + the Debian dom0 or the same
# kernel natively, and collect what the
# in-image checks (xa-check) left: the serial console log and the result disk's tar archive.
# The root image is opened with snapshot=on, so every boot starts from the same image.
#
# Usage: qemu-boot.sh [-a ARCH] [-k KERNEL_DIR] [-c CPUS] [-C CPU_MODEL] [-I] [-d DEVICE]... [-x DISK]... xen|native IMAGE_DIR OUT_DIR NAME [KERNEL_ARGS...]
#   ARCH: amd64 (default) or arm64, the image's architecture.
#   IMAGE_DIR holds root.img and xen; the kernel (vmlinuz, initrd.img) comes from KERNEL_DIR,
#   default IMAGE_DIR (stage image puts our own kernel in IMAGE_DIR/xa-kernel).
#   CPUS: QEMU's -smp, default 2. CPU_MODEL: QEMU's -cpu under Xen, default max,-smap (below;
#   arm64: cortex-a57).
#   DEVICE: one more QEMU -device (e.g. e1000,addr=0x10), repeatable.
#   DISK: one more virtio disk after the result disk (/dev/vdc, ...), a raw image opened
#   with snapshot=on like the root: the file is never written. Repeatable.
#   -I: an emulated IOMMU (q35 with amd-iommu, every virtio disk behind it), which a PVH
#   dom0 needs (Xen's dom0=pvh): without it the dom0 hangs checksumming ACPI tables Xen
#   did not map for it, and with it plain virtio disks bypass the IOMMU and never finish
#   a request (iommu_platform=on). ../shared/notes/xen-in-qemu.md.
#   KERNEL_ARGS are added to the dom0/native kernel command line (e.g. xa.mode=dom0);
#   XA_XEN_ARGS (environment) to Xen's.
# Writes OUT_DIR/NAME.console.log, NAME.result.raw, NAME/ (the extracted results) and
# NAME.timing (KEY=seconds from QEMU start, to a tenth: systemd_up, xen_ready, checks_start,
# done, exit).
# Exit: 0 when the console shows XA-DONE and the result disk held a results file; 1 when
# not (the reason on stderr); 2 on usage errors. QEMU's own exit status is not used: after a
# dom0 crash it still exits 0 (-no-reboot).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=qemu-watch.sh
. "$(dirname "$0")/qemu-watch.sh"
deadline=${XA_BOOT_DEADLINE:-600}

usage() {
    echo "usage: qemu-boot.sh [-a ARCH] [-k KERNEL_DIR] [-c CPUS] [-C CPU_MODEL] [-I] [-d DEVICE]... [-x DISK]... xen|native IMAGE_DIR OUT_DIR NAME [KERNEL_ARGS...]" >&2
    exit 2
}
kdir='' cpus=2 devices=() extra_disks=() xen_cpu='' iommu=0 arch=amd64
while getopts a:k:c:C:Id:x: opt; do
    case $opt in
        a) arch=$OPTARG ;;
        k) kdir=$OPTARG ;;
        c) cpus=$OPTARG ;;
        C) xen_cpu=$OPTARG ;;
        I) iommu=1 ;;
        d) devices+=(-device "$OPTARG") ;;
        x) extra_disks+=("$OPTARG") ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $cpus =~ ^[1-8]$ ]] || { echo "qemu-boot: -c '$cpus': not a CPU count 1-8" >&2; exit 2; }
case $arch in
    amd64) xen_cpu=${xen_cpu:-max,-smap} ;;
    arm64)
        xen_cpu=${xen_cpu:-cortex-a57}
        [ "$iommu" = 0 ] || { echo "qemu-boot: -I: amd64 only" >&2; exit 2; }
        ;;
    *) echo "qemu-boot: -a '$arch': not amd64 or arm64" >&2; exit 2 ;;
esac
[ $# -ge 4 ] || usage
kind=$1 img=$2 dir=$3 name=$4
shift 4
kdir=${kdir:-$img}
case $kind in xen | native) ;; *) usage ;; esac
for f in "$img/root.img" "$img/xen" "$kdir/vmlinuz" "$kdir/initrd.img"; do
    [ -f "$f" ] || { echo "qemu-boot: $f: missing (stage image)" >&2; exit 2; }
done
mkdir -p "$dir"
qemu_files "$dir" "$name"

# -nodefaults: none of the pc machine's default floppy, CD-ROM, VGA and parallel port, whose
# drivers (floppy, sr_mod, bochs/drm with its frame-buffer console, parport) every boot
# loaded and probed under TCG for nothing: a dom0 reached its checks 14 s sooner (128 -> 114 s,
# side by side in one run, 2026-12-06).
# The disks in order (/dev/vda root, /dev/vdb result, then -x's): plain virtio, or with -I
# virtio-blk-pci devices behind the IOMMU, which must come before them.
machine=pc disks=() n=0
[ "$iommu" = 0 ] || { machine=q35 disks=(-device amd-iommu); }
disk() {  # disk FILE SNAPSHOT(on|off)
    if [ "$iommu" = 0 ]; then
        disks+=(-drive "file=$1,if=virtio,format=raw,snapshot=$2")
    else
        disks+=(-drive "file=$1,if=none,id=d$n,format=raw,snapshot=$2"
            -device "virtio-blk-pci,drive=d$n,iommu_platform=on,disable-legacy=on")
    fi
    n=$((n + 1))
}
disk "$img/root.img" on
disk "$result" off
for f in "${extra_disks[@]}"; do disk "$f" on; done
[ "$arch" = amd64 ] || machine=virt,virtualization=on,gic-version=3
common=(-machine "$machine" -accel tcg -smp "$cpus" -m 3072 -nodefaults -display none -monitor none -no-reboot
    -nic none -serial "file:$console" "${disks[@]}" "${devices[@]}")
# The CPU under Xen (-C): max,-smap by default (SMAP under TCG crashes a PV dom0 at its first
# instruction). A PV domU running a full Debian (the deny boot's driver domain) does not
# survive max here: its processes died of heap corruption (systemd, udevd, mount segfaulting
# in glibc's malloc) within a minute, in 8 of 9 boots, also without AVX, FSGSBASE or PCID,
# or with Xen's bootscrub=1; with qemu64,+svm (as Xen's own CI runs under TCG) it boots to
# multi-user and serves backends (2026-12-06). The dom0 and the busybox guest never showed it.
# Xen's own arguments, the console's aside (both architectures).
xen_args="dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all${XA_XEN_ARGS:+ $XA_XEN_ARGS}"
# On arm64 the console is the virt machine's PL011 (Xen's dtuart, then the dom0's hvc0), and
# the disks are PCI virtio devices the dom0 drives itself (Xen gives it the host bridge).
if [ "$arch" = arm64 ] && [ "$kind" = xen ]; then
    cmd=(qemu-system-aarch64 "${common[@]}" -cpu "$xen_cpu" -kernel "$img/xen"
        -append "console=dtuart dtuart=/pl011@9000000 $xen_args"
        -device "guest-loader,addr=0x49000000,kernel=$kdir/vmlinuz,bootargs=console=hvc0 earlycon=xen root=/dev/vda rw $*"
        -device "guest-loader,addr=0x50000000,initrd=$kdir/initrd.img")
elif [ "$arch" = arm64 ]; then
    cmd=(qemu-system-aarch64 "${common[@]}" -cpu "$xen_cpu" -kernel "$kdir/vmlinuz"
        -initrd "$kdir/initrd.img" -append "console=ttyAMA0 root=/dev/vda rw $*")
elif [ "$kind" = xen ]; then
    # shellcheck disable=SC2054 # commas inside QEMU option values
    cmd=(qemu-system-x86_64 "${common[@]}" -cpu "$xen_cpu" -kernel "$img/xen"
        -append "console=com1 com1=115200,8n1 $xen_args"
        -initrd "$kdir/vmlinuz console=hvc0 earlyprintk=xen root=/dev/vda rw $*,$kdir/initrd.img")
else
    cmd=(qemu-system-x86_64 "${common[@]}" -cpu max -kernel "$kdir/vmlinuz"
        -initrd "$kdir/initrd.img" -append "console=ttyS0,115200 root=/dev/vda rw $*")
fi
# Milestones (ci/boot/qemu-watch.sh). xen_ready: systemd's "Started xen.service" line
# (Debian's init script returns once xenstored answers and xenconsoled runs: from then on xl
# can create guests).
qemu_watch qemu-boot "$deadline" 'XA-DONE mode=' "systemd_up:Welcome to" \
    "xen_ready:Started .*xen\.service" "checks_start:XA-START" "done:XA-DONE" -- "${cmd[@]}"
