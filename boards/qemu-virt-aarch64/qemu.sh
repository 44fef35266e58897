#!/bin/sh
# Boots a Cohesix seL4 image (elfloader + kernel + root task) on QEMU's virt board, UART on this terminal.
# The options must match those the seL4 kernel build dumped its DTB with (sel4-settings.cmake): keep them identical.
# Usage: boards/qemu-virt-aarch64/qemu.sh <build dir>/images/cohesix-root-image-arm-qemu-arm-virt   (Ctrl-A x quits)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <seL4 boot image>" >&2; exit 2; }
exec qemu-system-aarch64 -machine virt,secure=off,gic-version=2 -cpu cortex-a57 -m 1024 -nographic -kernel "$1"
