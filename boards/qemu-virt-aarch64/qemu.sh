#!/bin/sh
# Boots a Cohesix seL4 image (elfloader + kernel + root task) on QEMU's virt board: UART on this terminal, virtio-net on user networking with the hive's TCP ports forwarded to the host.
# The machine options must match those the seL4 kernel build dumped its DTB with (sel4-settings.cmake): keep them identical.
# (The virtio-mmio transports are in that DTB whether or not a device sits behind them, so adding the NIC changes nothing there.)
# Usage: boards/qemu-virt-aarch64/qemu.sh [--console-port N] [--9p-port N] [--bind ADDR] [--disk FILE [--flash IMAGE]]
#          <build dir>/images/cohesix-root-image-arm-qemu-arm-virt   (Ctrl-A x quits).
#   --disk FILE attaches FILE as the board's virtio-blk slot disk (docs/slots.md "On a disk"); a missing FILE is
#   created first with slot A flashed from IMAGE (default: build/images/qemu-virt-aarch64.img) by `bin/cohimg flash`.
#   The root task boots a slot of the disk; without one it boots the factory image linked into it.
#   A reset the hive asks for (after `cohsh update`) ends in the line "cohesix-sel4: reset requested": QEMU's
#   virt board gives user mode no PSCI call, so the launcher stands in for the reset line: with --restart-on-reset this
#   script restarts QEMU (same disk, same ports) each time that line appears, until QEMU exits by itself (Ctrl-A x). Defaults: COHESIX_QEMU_CONSOLE_PORT or 31337, COHESIX_QEMU_9P_PORT or 5640, COHESIX_QEMU_BIND or 127.0.0.1.
#   Host <bind>:<console port> reaches the hive's TCP console (guest 10.0.2.15:31337), <bind>:<9p port> NineDoor (guest :5640).
set -eu
# What the root task prints when it wants a reset (SEL4_RESET_LINE in sel4-platform/sel4_platform.h).
RESET_LINE="cohesix-sel4: reset requested"
# How often the restart loop looks for that line, in seconds.
RESET_POLL_S=0.2
# The guest side of the forwards: the ports root-task listens on (sel4-platform/root_task.c SEL4_ROOT_ARGS).
GUEST_CONSOLE_PORT=31337
GUEST_9P_PORT=5640
console_port=${COHESIX_QEMU_CONSOLE_PORT:-31337}
ninep_port=${COHESIX_QEMU_9P_PORT:-5640}
bind=${COHESIX_QEMU_BIND:-127.0.0.1}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
disk=
restart_on_reset=0
flash_image=$repo/build/images/qemu-virt-aarch64.img
usage="usage: $0 [--console-port N] [--9p-port N] [--bind ADDR] [--disk FILE [--flash IMAGE]] [--restart-on-reset] <seL4 boot image>"
while [ $# -gt 1 ]; do
  case "$1" in
    --restart-on-reset) restart_on_reset=1; shift ;;
    --console-port) console_port=$2; shift 2 ;;
    --9p-port) ninep_port=$2; shift 2 ;;
    --bind) bind=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
    --flash) flash_image=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
set -- "$1"
if [ -n "$disk" ]; then
  # First use: a formatted slot disk with slot A flashed (read back and compared by cohimg).
  if [ ! -e "$disk" ]; then
    "$repo/bin/cohimg" flash "$flash_image" --to "$disk" --slot A >&2
  fi
  set -- "$1" -drive "if=none,format=raw,file=$disk,id=d0" -device virtio-blk-device,drive=d0
fi
boot=$1
shift
# Becomes QEMU (exec): run in the foreground it replaces this script, as a background job its subshell,
# so $! is QEMU's own pid either way.
board() {
  # virtio-mmio version 2 (modern): the driver refuses the legacy transport QEMU offers by default.
  exec qemu-system-aarch64 -machine virt,secure=off,gic-version=2 -cpu cortex-a57 -m 1024 -nographic \
    -global virtio-mmio.force-legacy=false \
    -netdev "user,id=n0,hostfwd=tcp:$bind:$console_port-:$GUEST_CONSOLE_PORT,hostfwd=tcp:$bind:$ninep_port-:$GUEST_9P_PORT" \
    -device virtio-net-device,netdev=n0 \
    "$@" -kernel "$boot"
}
[ "$restart_on_reset" = 1 ] || board "$@"
# The reset line's stand-in: QEMU's output goes through a file this loop watches (and a tail shows),
# and QEMU is restarted whenever the root task asks for a reset.
exec 3<&0
work=$(mktemp -d)
qpid=
tpid=
stop() {
  [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
  [ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
  rm -rf "$work"
}
trap 'stop; exit 130' INT TERM
trap stop EXIT
boots=0
while :; do
  boots=$((boots + 1))
  log="$work/uart.$boots"
  : >"$log"
  board "$@" <&3 >"$log" 2>&1 &
  qpid=$!
  tail -n +1 -f "$log" &
  tpid=$!
  reset=0
  while kill -0 "$qpid" 2>/dev/null; do
    if grep -q "$RESET_LINE" "$log"; then reset=1; break; fi
    sleep "$RESET_POLL_S"
  done
  kill "$qpid" 2>/dev/null || true
  wait "$qpid" 2>/dev/null || true
  qpid=
  sleep "$RESET_POLL_S" # let the tail show the last lines
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  tpid=
  [ "$reset" = 1 ] || break
  echo "qemu.sh: the hive asked for a reset: restarting QEMU (boot $((boots + 1)))"
done
