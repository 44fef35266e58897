// /proc/tests (spec §4.6, §6): the self-test scripts `cohsh test` fetches and runs against this hive, queen only.
//
// They exercise the hive as it runs, through the console verbs a queen has: reads of the §6 tree,
// refusals the hive must give, and (full) a heartbeat worker spawned, tailed and killed. Worker ids
// are never reused (spec §6), so the full script is rendered when it is read and names the id the
// next spawn will get. Another spawn between the read and the run would take that id first; the
// script then fails at its `kill` line, which names the id it expected.

/** Names under /proc/tests, in the order `ls` shows them. */
export const SELFTEST_NAMES = ['selftest_full.coh', 'selftest_negative.coh', 'selftest_quick.coh'] as const;
export type SelftestName = (typeof SELFTEST_NAMES)[number];

/** Ticks of the heartbeat worker the full script spawns: few, so it ends itself if the kill never comes. */
export const SELFTEST_WORKER_TICKS = 5;
/** Time the full script gives the new worker before tailing its ring, in ms (WAIT is ≤ 2000). */
export const SELFTEST_WORKER_SETTLE_MS = 200;

const NEGATIVE = [
  '# selftest_negative: refusals the hive must give (spec §3.3, §6, §7)',
  'cat /no/such/file',
  'EXPECT ERR',
  'EXPECT SUBSTR invalid-path',
  'tail /proc/boot',
  'EXPECT ERR',
  'echo {"spawn":"nope"} > /queen/ctl',
  'EXPECT ERR',
  'EXPECT SUBSTR invalid-payload',
  'kill worker-0',
  'EXPECT ERR',
  'EXPECT SUBSTR invalid-path',
  'ls /gpu/no-such-gpu',
  'EXPECT ERR',
];

const QUICK = [
  '# selftest_quick: the hive answers and its namespace reads as spec §6 says; changes nothing',
  'ping',
  'EXPECT OK',
  'ls /',
  'EXPECT OK',
  'EXPECT SUBSTR entries=',
  'cat /proc/boot',
  'EXPECT OK',
  'EXPECT SUBSTR Cohesix boot: root-task online',
  'cat /proc/lifecycle/state',
  'EXPECT SUBSTR state=',
  'cat /proc/root/reachable',
  'EXPECT SUBSTR reachable=yes',
  'cat /proc/9p/session/active',
  'EXPECT SUBSTR active=',
  'ls /gpu',
  'EXPECT OK',
  'cat /gpu/bridge/status',
  'EXPECT SUBSTR state=',
  'ls /proc/tests',
  'EXPECT SUBSTR entries=3',
  'log',
  'EXPECT OK',
];

/** The script text; `nextWorker` is the id the hive's next spawn will get (full only). */
export function selftestScript(name: SelftestName, nextWorker: string): string {
  if (name === 'selftest_negative.coh') return NEGATIVE.join('\n') + '\n';
  if (name === 'selftest_quick.coh') return QUICK.join('\n') + '\n';
  return [
    '# selftest_full: quick, then a heartbeat worker spawned, tailed and killed (skipped by --no-mutate)',
    ...QUICK.slice(1),
    'cat /proc/pressure/busy',
    'EXPECT SUBSTR busy=',
    `spawn heartbeat ticks=${SELFTEST_WORKER_TICKS}`,
    'EXPECT OK',
    'ls /worker',
    `EXPECT SUBSTR entries=`,
    `WAIT ${SELFTEST_WORKER_SETTLE_MS}`,
    `tail /worker/${nextWorker}/telemetry`,
    'EXPECT OK',
    `kill ${nextWorker}`,
    'EXPECT OK',
    `cat /worker/${nextWorker}/telemetry`,
    'EXPECT ERR',
    'EXPECT SUBSTR invalid-path',
  ].join('\n') + '\n';
}
