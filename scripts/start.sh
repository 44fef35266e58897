#!/bin/sh
# `npm start`: builds what is missing or stale, then host/start/start.ts boots the dev hive (log in build/hive.log),
# starts gpu-bridge-host --mock and drops you into cohsh attached as queen; leaving cohsh stops them all.
set -eu
cd "$(dirname "$0")/.."
. scripts/ensure-built.sh
exec node build/tsc/host/start/start.js "$@"
