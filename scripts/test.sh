#!/bin/sh
# Runs every suite: C (ctest/cmocka), TypeScript (Node), and the booted firmware (pytest in harness/).
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh

status=0
echo "== C: ctest (cmocka)"
ctest --test-dir build --output-on-failure || status=1
echo "== TypeScript: node --test"
node --test build/tsc/host/node/run-tests.js || status=1
echo "== firmware: pytest harness/"
build/pyenv/bin/python -m pytest harness -q || status=1
exit $status
