#!/bin/bash
# Install the binary RPMs into a scratch root with rpm --root and assert that every file
# lands where a RHEL-style system expects it (usr-merged paths, dracut module, no
# initramfs-tools files). Scriptlets are not run (--noscripts): the scratch root has no
# shell; dependencies are not resolved (--nodeps): it has no Fedora packages either.
# Usage: tests/packaging/rpm-root-install.sh RPMDIR
set -euo pipefail
rpmdir=${1:?usage: rpm-root-install.sh RPMDIR}

mapfile -t rpms < <(find "$rpmdir" -maxdepth 1 -name '*.rpm' ! -name '*.src.rpm' | sort)
[ ${#rpms[@]} -gt 0 ] || { echo "rpm-root-install: no binary RPM in $rpmdir" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
rpm --root "$root" --initdb
rpm --root "$root" -i --nodeps --noscripts "${rpms[@]}"

failures=0
expect() { # expect PATH: PATH exists in the root
    if [ -e "$root$1" ]; then echo "ok: $1"; else echo "MISSING: $1"; failures=$((failures + 1)); fi
}
expect_glob() { # expect_glob PATTERN: at least one file matches in the root
    if compgen -G "$root$1" >/dev/null; then echo "ok: $1"; else echo "MISSING: $1"; failures=$((failures + 1)); fi
}
expect /usr/sbin/xen-autoload
expect /usr/lib/systemd/system/xen-autoload.service
expect /usr/lib/udev/rules.d/70-xen-autoload.rules
expect /usr/lib/dracut/modules.d/90xen-autoload/module-setup.sh
expect /usr/lib/xen-autoload/default.conf
expect /etc/xen-autoload/local.conf
expect_glob '/usr/share/man/man8/xen-autoload.8*'
expect_glob '/usr/share/man/man5/xen-autoload.conf.5*'

# Nothing outside the RHEL locations: no /lib (not usr-merged), no Debian initramfs-tools.
stray=$(rpm --root "$root" -qal | grep -E '^/lib/|^/usr/share/initramfs-tools|^/usr/local' || true)
if [ -n "$stray" ]; then
    echo "STRAY (not a RHEL path): $stray"
    failures=$((failures + 1))
fi
# local.conf is a %config(noreplace) file; xen-host is installed and requires xen-autoload.
if rpm --root "$root" -qc xen-autoload | grep -qx /etc/xen-autoload/local.conf; then
    echo "ok: /etc/xen-autoload/local.conf is a config file"
else
    echo "NOT A CONFIG FILE: /etc/xen-autoload/local.conf"
    failures=$((failures + 1))
fi
if rpm --root "$root" -q --requires xen-host | grep -q '^xen-autoload = '; then
    echo "ok: xen-host requires xen-autoload"
else
    echo "xen-host does not require xen-autoload"
    failures=$((failures + 1))
fi
nfiles=$(rpm --root "$root" -qal | wc -l)
if [ $failures -ne 0 ]; then
    echo "rpm-root-install: $failures problems"
    exit 1
fi
echo "$(rpm --root "$root" -qa | sort | tr '\n' ' ')installed, $nfiles files, all in RHEL paths"
