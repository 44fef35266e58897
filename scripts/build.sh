#!/bin/sh
# Builds everything: C (engine, cohc, bindings, firmware, cohesix-sim, tests), TypeScript (check, bundles, host tools), bytecode and the dev image.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh

generator=""
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
if [ ! -f build/CMakeCache.txt ]; then
  # shellcheck disable=SC2086
  cmake -S . -B build $generator -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build --parallel

# js/ must compile without Node types (the layer rule); host/ and tests compile with them.
npx tsc -p tsconfig.js.json
npx tsc -p tsconfig.json
node scripts/gen-firmware-tests.mjs
npx rollup -c --silent

mkdir -p build/qbc build/images
# The dev signing key lives in build/keys/ (ignored, never committed); made once, kept across builds.
[ -f build/keys/dev.key ] || bin/cohimg keygen --out build/keys/dev
bin/cohimg build --manifest boards/host/manifest.json --bundles build/qbc --cohc build/engine/cohc --js build/bundles \
  --key build/keys/dev.key --out build/images/dev.img
# The js/ testkit suites as a firmware task: the same tests, proven inside quickjs-ng.
bin/cohimg build --manifest boards/host/js-tests.json --bundles build/qbc --cohc build/engine/cohc --js build/bundles \
  --key build/keys/dev.key --out build/images/js-tests.img
# The js/ fuzz targets as a firmware task (npm run fuzz runs it; harness/test_fuzz_in_firmware.py checks its arena).
bin/cohimg build --manifest boards/host/js-fuzz.json --bundles build/qbc --cohc build/engine/cohc --js build/bundles \
  --key build/keys/dev.key --out build/images/js-fuzz.img
# The qemu-virt-aarch64 board's image: the same bundles and bytecode, its own manifest (sel4-platform links it in).
bin/cohimg build --manifest boards/qemu-virt-aarch64/manifest.json --bundles build/qbc --cohc build/engine/cohc \
  --js build/bundles --key build/keys/dev.key --out build/images/qemu-virt-aarch64.img
