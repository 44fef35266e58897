#!/bin/sh
# Configures and builds the libFuzzer targets in build/fuzz with clang; exits 2 (and says why) where clang's libFuzzer is missing, 1 when the build fails.
set -eu
cd "$(dirname "$0")/.."
command -v clang >/dev/null 2>&1 || { echo "fuzz-build: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
generator=""
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
if [ ! -f build/fuzz/CMakeCache.txt ]; then
  # shellcheck disable=SC2086
  CC=clang cmake -S . -B build/fuzz $generator -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOHESIX_FUZZ=ON \
    -DCOHESIX_MAIN_BUILD="$PWD/build" >build/fuzz-configure.log 2>&1 || {
    echo "fuzz-build: clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev); see build/fuzz-configure.log" >&2
    rm -rf build/fuzz/CMakeCache.txt
    exit 2
  }
fi
cmake --build build/fuzz --parallel >build/fuzz-build.log 2>&1 || { tail -40 build/fuzz-build.log >&2; exit 1; }
