// Reads the js-fuzz firmware log npm run fuzz captured: a table row, a JSON row, and exit 1 on a failure or arena growth.
import { readFileSync } from 'node:fs';
import { FUZZ_FIRMWARE_ARENA_SLACK_BYTES } from '../../js/fuzz/limits.js';

const ROUND = /^\[js-fuzz\] fuzz round=(\d+) inputs=(\d+) crashes=(\d+) hangs=(\d+) arena_used=(\d+)$/;
const [path, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText);
const lines = readFileSync(path, 'utf8').split('\n');
const rounds: number[][] = [];
let frozenAt = -1;
const fails: string[] = [];
for (const l of lines) {
  if (l.includes('fuzz corpus frozen')) frozenAt = rounds.length;
  if (l.includes('fuzz FAIL') || /fault|faulted/.test(l)) fails.push(l);
  const m = ROUND.exec(l);
  if (m) rounds.push(m.slice(1).map(Number));
}
const last = rounds[rounds.length - 1] ?? [0, 0, 0, 0, 0];
const after = frozenAt >= 0 ? rounds.slice(frozenAt).map((r) => r[4]) : [];
const base = after[0] ?? 0;
const growth = after.length > 0 ? Math.max(...after) - base : 0;
const flat = frozenAt >= 0 && growth <= FUZZ_FIRMWARE_ARENA_SLACK_BYTES;
const crashes = last[2] + fails.length;
process.stdout.write(
  `${'fw:js-fuzz (all TS)'.padEnd(24)} ${String(last[1]).padStart(11)} inputs ${seconds.toFixed(1).padStart(7)} s ${Math.round(last[1] / seconds).toString().padStart(8)}/s  crashes ${crashes}  hangs ${last[3]}  ` +
    `arena after freeze ${base} -> ${after[after.length - 1] ?? 0} bytes (max +${growth}, ${flat ? 'flat' : 'GREW or too short'})\n`,
);
process.stdout.write(JSON.stringify({ target: 'fw:js-fuzz', inputs: last[1], seconds, crashes, hangs: last[3], rounds: last[0], arenaAfterFreezeBytes: base, arenaEndBytes: after[after.length - 1] ?? 0, arenaGrowthMaxBytes: growth, arenaFlat: flat }) + ',\n');
for (const f of fails) process.stderr.write(`${f}\n`);
process.exitCode = crashes > 0 || last[3] > 0 || !flat ? 1 : 0;
