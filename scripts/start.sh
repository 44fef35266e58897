#!/bin/sh
# Builds if needed and boots the default dev hive in the host firmware, UART console on this terminal.
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh
echo "booting build/images/dev.img: TCP console on 127.0.0.1:${COHESIX_CONSOLE_PORT:-31337} (token changeme); Ctrl-C stops the hive" >&2
exec build/cohesix-sim --image build/images/dev.img --trust-key build/keys/dev.pub --uart stdio --console-port "${COHESIX_CONSOLE_PORT:-31337}"
