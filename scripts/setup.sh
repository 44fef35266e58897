#!/bin/sh
# Installs what the build and tests need, idempotently: npm packages, the pinned engine and Ed25519 drops, Python test deps.
set -eu
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required: $2" >&2; exit 1; }; }
need node "install Node.js >= 20"
need cmake "install cmake (>= 3.20)"
need cc "install a C compiler (gcc or clang)"
need python3 "install python3"
need cargo "install Rust's cargo (it fetches the pinned quickjs-ng and Monocypher crates)"

node -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 20) { console.error("setup: Node.js >= 20 is required, found " + process.versions.node); process.exit(1); }'

# npm packages exactly as locked; re-run only when the lock changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

sh engine/fetch.sh
sh crypto/fetch.sh
# lwIP for the seL4 port's network stack (Debian's source package). Exit 3 means it could not be
# downloaded (no apt-get, no network): the lwIP parts of the build are skipped, never the build.
lwip_rc=0
sh sel4-platform/lwip/fetch.sh || lwip_rc=$?
[ "$lwip_rc" -eq 0 ] || [ "$lwip_rc" -eq 3 ] || exit "$lwip_rc"

# Python test dependencies live in a venv inside build/, never in the system Python.
if [ ! -x build/pyenv/bin/python ] || [ harness/requirements.txt -nt build/pyenv/.installed ]; then
  mkdir -p build
  python3 -m venv build/pyenv
  build/pyenv/bin/pip install --quiet -r harness/requirements.txt
  touch build/pyenv/.installed
fi
