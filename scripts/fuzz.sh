#!/bin/sh
# npm run fuzz -- --minutes N: every fuzz target for a long run (C under libFuzzer, TS on Node and in the firmware), time split between them.
# Prints inputs per second per target and totals, writes build/fuzz/summary.json, saves found inputs under build/fuzz/crashes/.
set -eu
cd "$(dirname "$0")/.."
minutes=1
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "usage: npm run fuzz -- [--minutes N] [--seed S]" >&2; exit 2 ;;
  esac
done
. scripts/ensure-built.sh
[ -f build/images/js-fuzz.img ] || sh scripts/build.sh
out=build/fuzz
mkdir -p "$out/crashes" "$out/corpus"
total_s=$(awk "BEGIN { printf \"%d\", $minutes * 60 }")
# Shares of the time: C targets 40%, TS on Node 40%, TS inside the firmware 20%.
c_s=$(( total_s * 40 / 100 ))
node_s=$(( total_s * 40 / 100 ))
fw_s=$(( total_s - c_s - node_s ))
status=0
rows=""

echo "== fuzz: ${minutes} min (C ${c_s} s, Node ${node_s} s, firmware ${fw_s} s), seed ${seed}"
if sh scripts/fuzz-build.sh; then
  per=$(( c_s / 4 ))
  for t in fuzz_image fuzz_manifest fuzz_qbc fuzz_slots; do
    mkdir -p "$out/corpus/$t"
    reg=fuzz/regressions/$t
    [ -d "$reg" ] || reg=""
    log="$out/$t.log"
    # shellcheck disable=SC2086
    if "$out/$t" -max_total_time="$per" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$t-" "$out/corpus/$t" "$out/seeds/$t" $reg >"$log" 2>&1; then rc=0; else rc=1; status=1; fi
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    n=${n:-0}
    crashes=$([ $rc -eq 0 ] && echo 0 || echo 1)
    hangs=$(grep -c "ALARM: working on the last Unit\|libFuzzer: timeout" "$log" || true)
    printf '%-24s %11s inputs %7s s %8s/s  crashes %s  hangs %s\n' "c:$t" "$n" "$per" "$(( n / (per > 0 ? per : 1) ))" "$crashes" "$hangs"
    [ $rc -eq 0 ] || { tail -n 30 "$log"; ls "$out/crashes" | grep "^$t-" | sed "s|^|  saved $out/crashes/|"; }
    rows="$rows{\"target\":\"c:$t\",\"inputs\":$n,\"seconds\":$per,\"crashes\":$crashes,\"hangs\":$hangs},"
  done
else
  echo "c: skipped (clang's libFuzzer is missing: apt-get install clang libclang-rt-14-dev)"
fi

node build/tsc/host/fuzz/run.js --seconds "$node_s" --seed "$seed" --out "$out" || status=1
rows="$rows$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));process.stdout.write(r.targets.map(t=>JSON.stringify({target:"ts:"+t.target,inputs:t.inputs,seconds:+t.seconds.toFixed(1),crashes:t.crashes,hangs:t.hangs})).join(",")+",")' "$out/ts-node.json")"

# The same TS targets inside quickjs-ng: the js-fuzz image logs a line per round with its arena use.
fwlog="$out/firmware.log"
timeout "$fw_s" build/cohesix-sim --image build/images/js-fuzz.img --uart none --console-port 0 2>"$fwlog" >/dev/null || true
fw=$(node build/tsc/host/fuzz/firmware-log.js "$fwlog" "$fw_s") || status=1
echo "$fw" | sed -n '1p'
rows="$rows$(echo "$fw" | sed -n '2p')"

total=$(echo "[${rows%,}]" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);const n=r.reduce((a,t)=>a+t.inputs,0);const c=r.reduce((a,t)=>a+t.crashes,0);const h=r.reduce((a,t)=>a+t.hangs,0);console.log(JSON.stringify({n,c,h}))})')
node -e 'const [rows,total,min,seed]=process.argv.slice(1);const t=JSON.parse(total);require("fs").writeFileSync("build/fuzz/summary.json",JSON.stringify({minutes:+min,seed:+seed,inputs:t.n,crashes:t.c,hangs:t.h,targets:JSON.parse(rows)},null,2)+"\n");console.log(`total: ${t.n} inputs in ${min} min, ${t.c} crashes, ${t.h} hangs (build/fuzz/summary.json)`)' "[${rows%,}]" "$total" "$minutes" "$seed"
exit $status
