#!/bin/sh
# Real-GPU check for gpu-bridge-host: records raw nvidia-smi output and what --list would publish, into $OUT (or ./device-check-out).
# Run from the repo root on a machine with an NVIDIA GPU, after `npx tsc -p tsconfig.json` (nothing heavy is built here).
# Exit 0 when nvidia-smi ran and --list produced a snapshot; the files are worth keeping either way.
set -u
cd "$(dirname "$0")/../.."
out="${OUT:-device-check-out}"
mkdir -p "$out"
# Bound every command: nvidia-smi can hang on a wedged driver.
t() { timeout 30 "$@"; }

query='index,uuid,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw,driver_version'
{ uname -a; node --version; command -v nvidia-smi; } > "$out/env.txt" 2>&1
t nvidia-smi > "$out/nvidia-smi.txt" 2>&1; echo "exit $?" >> "$out/nvidia-smi.exit"
t nvidia-smi --query-gpu="$query" --format=csv,noheader,nounits > "$out/query.csv" 2> "$out/query.stderr"; echo "exit $?" > "$out/query.exit"
t nvidia-smi --query-gpu="$query" --format=csv > "$out/query-with-header.csv" 2>&1
t nvidia-smi -L > "$out/nvidia-smi-L.txt" 2>&1
t nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1

if [ ! -f build/tsc/host/gpu-bridge/cli.js ]; then
  echo "build/tsc missing: run npx tsc -p tsconfig.json first" | tee "$out/list.stderr"
  exit 1
fi
t node build/tsc/host/gpu-bridge/run.js --list > "$out/list.json" 2> "$out/list.stderr"
status=$?
echo "exit $status" > "$out/list.exit"
# The mock snapshot on the same machine, for comparison.
t node build/tsc/host/gpu-bridge/run.js --mock --list > "$out/list-mock.json" 2>&1
cat "$out/query.csv" "$out/list.stderr"
head -c 2000 "$out/list.json"
exit $status
