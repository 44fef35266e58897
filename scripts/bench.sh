#!/bin/sh
# Builds everything, then measures the firmware figures (bench/firmware.py): table on stdout, JSON in bench/results/.
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh
build/pyenv/bin/python bench/firmware.py "$@"
