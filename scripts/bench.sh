#!/bin/sh
# Builds everything, then prints every figure the issues name (tables on stdout, JSON in bench/results/):
# firmware boot/load/arena, images, the whole hive, 9P rates, the host tools, hot reload and npm run dev.
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh
build/pyenv/bin/python bench/firmware.py "$@"
build/pyenv/bin/python bench/images.py
build/pyenv/bin/python bench/hive.py
build/pyenv/bin/python bench/ninep.py
build/pyenv/bin/python bench/cohsh_firmware.py
node bench/gpu_bridge.mjs
node bench/reload.mjs
