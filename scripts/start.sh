#!/bin/sh
# `npm start`: builds what is missing or stale, then host/start/start.ts boots the dev hive (log in build/hive.log),
# starts gpu-bridge-host --mock and drops you into cohsh attached as queen; leaving cohsh stops them all.
set -eu
cd "$(dirname "$0")/.."
stale=""
for f in build/cohesix-sim build/images/dev.img build/keys/dev.pub build/tsc/host/start/start.js build/tsc/host/cohsh/cli.js; do
  [ -e "$f" ] || stale="$f"
done
if [ -z "$stale" ]; then
  stale=$(find js host bindings engine/port engine/cohc boards package.json -newer build/images/dev.img -type f 2>/dev/null | head -n 1)
fi
if [ -n "$stale" ]; then
  echo "[start] building ($stale is missing or newer than the image)" >&2
  sh scripts/build.sh
fi
exec node build/tsc/host/start/start.js "$@"
