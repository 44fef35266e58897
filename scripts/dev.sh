#!/bin/sh
# `npm run dev`: builds what is missing or stale (so the hive boots the code js/ holds), then host/dev/dev.ts boots the
# dev hive and hot-reloads each bundle a save in js/ changes; Ctrl-C stops the watcher and the hive.
set -eu
cd "$(dirname "$0")/.."
. scripts/ensure-built.sh
exec node build/tsc/host/dev/dev.js "$@"
