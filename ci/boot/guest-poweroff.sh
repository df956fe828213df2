#!/bin/busybox sh
# shellcheck shell=dash
# Run by the guest kernel on `xl shutdown`: let /init finish writing its result (at most
# 30 s), flush, and power off (the kernel's, not init's: /init is a plain script).
i=0
while [ ! -e /run/xa-guest-done ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
sync
exec /bin/busybox poweroff -f
