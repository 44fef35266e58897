#!/bin/sh
# Runs scripts/build.sh when a build output that npm start / npm run dev need is missing or older than the sources (sourced by start.sh and dev.sh).
stale=""
for f in build/cohesix-sim build/images/dev.img build/keys/dev.pub build/tsc/host/start/start.js build/tsc/host/dev/dev.js build/tsc/host/cohsh/cli.js; do
  [ -e "$f" ] || stale="$f"
done
if [ -z "$stale" ]; then
  stale=$(find js host bindings firmware engine/port engine/cohc boards package.json -newer build/images/dev.img -type f 2>/dev/null | head -n 1)
fi
if [ -n "$stale" ]; then
  echo "[build] building ($stale is missing or newer than the image)" >&2
  sh scripts/build.sh
fi
