#!/bin/bash
# Capture this system's platform facts as a fixture root for the unit tests
# (tests/fixtures/NAME: what `xen-autoload detect --root DIR` reads), from a real boot: the
# files of /sys/hypervisor, /proc/xen/capabilities, the kernel release, the device tree's
# hypervisor node (Arm), the xenbus device nodes (as empty files: their existence is the
# fact), the PCI vendor/device ids and the module list; the bus directories that exist on
# every kernel (sys/bus/xen, sys/bus/xen-backend) as empty directories with a .gitkeep, as
# the hand-made fixtures have them. Run in the image by xa-check (stage boot): never edited
# by hand; a developer copies a capture from out/boot/NAME/fixtures/ into tests/fixtures/
# (tests/fixtures/README.md).
# Usage: capture-fixture.sh DEST   (DEST must not exist; SYSROOT=DIR reads another root)
set -euo pipefail
dest=${1:?usage: capture-fixture.sh DEST}
src=${SYSROOT:-}
[ ! -e "$dest" ] || { echo "capture-fixture: $dest: exists" >&2; exit 2; }
mkdir -p "$dest"

# copy_file REL: a regular file, at most 64 KiB (sysfs attributes are one page).
copy_file() {
    [ -f "$src/$1" ] || return 0
    mkdir -p "$dest/$(dirname "$1")"
    head -c 65536 "$src/$1" >"$dest/$1" 2>/dev/null && return 0
    # Unreadable (the boots' sys/hypervisor/pmu files give a read error): left out, and so is
    # a directory it leaves empty, which git could not keep.
    rm -f "$dest/$1"
    rmdir --ignore-fail-on-non-empty "$dest/$(dirname "$1")"
}

if [ -d "$src/sys/hypervisor" ]; then
    while IFS= read -r -d '' f; do
        copy_file "${f#"$src"/}"
    done < <(find "$src/sys/hypervisor" -type f -print0 2>/dev/null)
fi
copy_file proc/xen/capabilities
copy_file proc/sys/kernel/osrelease
# Arm: the device tree's hypervisor node (/proc/device-tree is a link into /sys/firmware).
copy_file proc/device-tree/hypervisor/compatible
copy_file proc/modules
# proc/xen exists (the xenfs mount point) only on Xen: keep the directory.
if [ -d "$src/proc/xen" ]; then
    mkdir -p "$dest/proc/xen"
    [ -n "$(ls -A "$dest/proc/xen")" ] || touch "$dest/proc/xen/.gitkeep"
fi
for n in xenbus xenbus_backend privcmd; do
    [ -e "$src/dev/xen/$n" ] || continue
    mkdir -p "$dest/dev/xen"
    : >"$dest/dev/xen/$n"
done
for d in sys/bus/xen sys/bus/xen-backend; do
    [ -d "$src/$d" ] || continue
    mkdir -p "$dest/$d"
    touch "$dest/$d/.gitkeep"
done
for d in "$src"/sys/bus/pci/devices/*; do
    [ -e "$d/vendor" ] || continue
    for a in vendor device class; do copy_file "${d#"$src"/}/$a"; done
done
