#!/bin/bash
# Boot an installed disk once under qemu-system-x86_64 (TCG) through its own firmware and
# boot loader (no -kernel): SeaBIOS (QEMU's default) or OVMF (Debian's ovmf package). The
# disk is written to (no snapshot=on): it persists between the boots of stage admin.
# Disks, in this order: vda the installed disk, vdb a blank 64 MiB result disk (the in-image
# script writes a tar archive to it), vdc the repository disk (read-only).
#
# Usage: qemu-disk-boot.sh bios|uefi DISK VARS REPO_IMG OUT_DIR NAME [DEADLINE_S]
#   VARS: the OVMF variable store of this disk (uefi; made from OVMF_VARS_4M.fd on first
#   use, kept between boots like a machine's NVRAM); ignored for bios.
# Writes OUT_DIR/NAME.console.log, NAME.result.raw, NAME/ (the extracted results),
# NAME.cmdline and NAME.timing (KEY=seconds from QEMU start, to a tenth: grub, systemd_up,
# checks_start, done, exit; timed_out=1). Exit 0 when the console shows XA-DONE and the
# result disk held results.jsonl, 1 when not (reason on stderr), 2 on usage errors. QEMU's
# own exit status is never used.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../boot/qemu-watch.sh
. "$(dirname "$0")/../boot/qemu-watch.sh"
[ $# -ge 6 ] || { echo "usage: qemu-disk-boot.sh bios|uefi DISK VARS REPO_IMG OUT_DIR NAME [DEADLINE_S]" >&2; exit 2; }
fw=$1 disk=$2 vars=$3 repo=$4 dir=$5 name=$6 deadline=${7:-1200}
case $fw in bios | uefi) ;; *) echo "qemu-disk-boot: firmware '$fw': bios or uefi" >&2; exit 2 ;; esac
for f in "$disk" "$repo"; do [ -f "$f" ] || { echo "qemu-disk-boot: $f: missing" >&2; exit 2; }; done
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
mkdir -p "$dir"
qemu_files "$dir" "$name"

# shellcheck disable=SC2054 # commas inside QEMU option values
cmd=(qemu-system-x86_64 -machine pc -accel tcg -cpu max,-smap -smp 2 -m 3072
    -display none -monitor none -no-reboot -nic none -serial "file:$console"
    -drive "file=$disk,if=virtio,format=raw,cache=unsafe"
    -drive "file=$result,if=virtio,format=raw"
    -drive "file=$repo,if=virtio,format=raw,readonly=on")
if [ "$fw" = uefi ]; then
    [ -f "$ovmf_code" ] || { echo "qemu-disk-boot: $ovmf_code: missing (ovmf, ci/deps/admin.txt)" >&2; exit 2; }
    [ -f "$vars" ] || cp "$ovmf_vars" "$vars"
    # shellcheck disable=SC2054
    cmd+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code"
        -drive "if=pflash,format=raw,unit=1,file=$vars")
fi
# Milestones: GRUB's menu, systemd's banner, the checks' start and end.
qemu_watch qemu-disk-boot "$deadline" 'XA-DONE phase=' "grub:GNU GRUB" "systemd_up:Welcome to" \
    "checks_start:XA-START" "done:XA-DONE" -- "${cmd[@]}"
