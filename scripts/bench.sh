#!/bin/sh
# Builds everything, then measures the firmware, image and host-tool figures (bench/firmware.py, bench/images.py,
# bench/cohsh_firmware.py): tables on stdout, JSON in bench/results/.
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh
build/pyenv/bin/python bench/firmware.py "$@"
build/pyenv/bin/python bench/images.py
build/pyenv/bin/python bench/cohsh_firmware.py
