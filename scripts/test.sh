#!/bin/sh
# Runs every suite: C (ctest/cmocka), TypeScript (Node), and the booted firmware (pytest in harness/).
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh

status=0
echo "== TypeScript: import cycles (js/, host/)"
node scripts/check-import-cycles.mjs || status=1

generator=""
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"

echo "== C: include graph of firmware/ + bindings/ (no cycle; capabilities only through their registrations)"
node scripts/check-include-cycles.mjs || status=1
echo "== C: ctest (cmocka)"
ctest --test-dir build --output-on-failure || status=1
echo "== fuzz: C targets under libFuzzer (ASan+UBSan), fixed budget from seed 1, plus fuzz/regressions"
fuzz_build=0
sh scripts/fuzz-build.sh || fuzz_build=$?
case $fuzz_build in
  0) ctest --test-dir build/fuzz --output-on-failure || status=1 ;;
  2) echo "skipped: clang's libFuzzer is missing (apt-get install clang libclang-rt-14-dev; .ci/run does)" ;;
  *) echo "fuzz targets did not build (build/fuzz-build.log)" >&2; status=1 ;;
esac
# The TS fuzz targets' short runs and regression replays are suites of their own (js/fuzz, host/fuzz) below.
echo "== TypeScript: node --test"
node --test build/tsc/host/node/run-tests.js || status=1

# ---- seL4 port cross check (runs when the AArch64 cross compiler and picolibc are installed) ----
# Builds what the seL4 root task links (engine, firmware, bindings, sel4-platform/core, libc glue) for AArch64 +
# picolibc with warnings as errors, links it against picolibc, and checks that the engine defines baked
# into that build are the host's: the same .qbc must load on both firmwares.
echo "== seL4 port: AArch64 + picolibc cross check"
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && [ -f /usr/lib/picolibc/aarch64-linux-gnu/include/picolibc.h ]; then
  if [ ! -f build/aarch64-check/CMakeCache.txt ]; then
    # shellcheck disable=SC2086
    cmake -S . -B build/aarch64-check $generator -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE=boards/qemu-virt-aarch64/toolchain-aarch64-picolibc.cmake >/dev/null || status=1
  fi
  if cmake --build build/aarch64-check --parallel; then
    host_defines=$(build/engine/cohc --describe | sed -n 's/.*;defines=\([^;]*\);.*/\1/p')
    if strings build/aarch64-check/engine/libengine_port.a | grep -qxF "$host_defines"; then
      echo "engine defines match the host build: $host_defines"
      # The network stack (lwIP + virtio-net + glue) links against picolibc too, when its drop was fetched.
      if [ -f build/aarch64-check/sel4-platform/net/cohesix-net-link-check ]; then
        echo "lwIP $(sed -n 's/^lwip_version=//p' sel4-platform/lwip/lwip.lock) + virtio-net + netif glue: built with -Werror and linked against picolibc"
      else
        echo "lwIP: skipped: sel4-platform/lwip/drop is missing (sh sel4-platform/lwip/fetch.sh needs apt-get and the network)"
      fi
    else
      echo "seL4 cross build: engine defines differ from the host's ($host_defines): bytecode would not load" >&2
      status=1
    fi
  else
    status=1
  fi
else
  echo "skipped: install gcc-aarch64-linux-gnu and picolibc-aarch64-linux-gnu (.ci/run does) to cross-check the seL4 port"
fi

echo "== firmware: pytest harness/"
build/pyenv/bin/python -m pytest harness -q -rs || status=1
exit $status
