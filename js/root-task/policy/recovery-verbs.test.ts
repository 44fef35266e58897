// UART recovery verbs: tasks with memory and CPU, restart of the network console, killtask (workers through HiveControl), lastlog.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { AttachGuard } from '../../console/attach-guard.js';
import { UartConsoleSession } from '../../console/uart.js';
import { utf8Encode } from '../../bytes/utf8.js';
import { NineError } from '../../secure9p/errors.js';
import { recoveryVerbs, type RecoveryOptions } from './recovery-verbs.js';
import { policyHive, type PolicyHive } from './policy.support.js';
import type { RestartPort } from './ports.js';

function uart(h: PolicyHive, extra: Partial<RecoveryOptions> = {}) {
  let out = '';
  const restarts: string[] = [];
  const restart: RestartPort = {
    names: () => ['net-console'],
    restart: (name) => {
      restarts.push(name);
      return restarts.length > 1 ? new NineError('Busy', 'still stopping') : `${name} task=41`;
    },
  };
  const extraVerbs = recoveryVerbs({ hive: h.hive, tasks: h.tasks, taskPort: h.tasks, restart, protectedTaskIds: [1], ...extra });
  const s = new UartConsoleSession({ backend: h.backends.make('uart', [...extraVerbs.keys()]), guard: new AttachGuard(), write: (t) => (out += t), extraVerbs });
  const say = (line: string): string[] => {
    out = '';
    s.receive(utf8Encode(`${line}\n`), h.clock.mono);
    return out.split('\r\n').slice(1).filter((l) => l !== '' && l !== 'cohesix> ');
  };
  return { say, restarts };
}

function seeded(): PolicyHive {
  const h = policyHive();
  h.tasks.others.push(
    { id: 1, label: 'root-task', task: 'root-task', state: 'running', fault: null, detail: '', arenaBytes: 1048576, arenaUsedBytes: 300000, arenaPeakBytes: 310000, cpuMs: 80.6 },
    { id: 2, label: 'net-console', task: 'net-console', state: 'faulted', fault: 'cpu', detail: 'slice', arenaBytes: 262144, arenaUsedBytes: 1000, arenaPeakBytes: 2000, cpuMs: 3 },
  );
  return h;
}

test('uart tasks: every task with arena use and CPU, workers named, no ATTACH needed', () => {
  const h = seeded();
  h.hive.queenCtl('{"spawn":"heartbeat","ticks":3}', { who: { role: 'queen', identity: null, claims: null }, session: h.client().ns });
  const { say } = uart(h);
  deepEqual(say('tasks'), [
    '[tasks] id=1 label=root-task task=root-task state=running arena_used=300000 arena_bytes=1048576 arena_peak=310000 cpu_ms=81',
    '[tasks] id=2 label=net-console task=net-console state=faulted arena_used=1000 arena_bytes=262144 arena_peak=2000 cpu_ms=3 fault=cpu',
    '[tasks] id=10 label=worker-1 task=worker-heartbeat state=running arena_used=40010 arena_bytes=262144 arena_peak=50000 cpu_ms=12 worker=worker-1',
    '[tasks] total=3 workers=1',
    'OK TASKS',
  ]);
  deepEqual(say('tasks now'), ['ERR TASKS reason=policy detail=invalid-payload error=invalid payload']);
});

test('uart restart: lists, restarts the network console with a log line, refuses unknown names and passes port errors', () => {
  const h = seeded();
  const u = uart(h);
  deepEqual(u.say('restart'), ['[restart] restartable: net-console', 'OK RESTART']);
  deepEqual(u.say('restart net-console'), ['[restart] net-console task=41', 'OK RESTART']);
  equal(h.door.logLines().at(-1), 'restarted net-console from the UART console');
  deepEqual(u.say('restart ninedoor'), ['ERR RESTART reason=policy detail=invalid-path error=invalid path']);
  deepEqual(u.say('restart net-console'), ['ERR RESTART reason=busy detail=busy error=EBUSY']);
  deepEqual(u.restarts, ['net-console', 'net-console']);
});

test('uart restart without a port is unsupported', () => {
  const h = seeded();
  const u = uart(h, { restart: undefined });
  deepEqual(u.say('restart net-console'), ['ERR RESTART reason=policy detail=unsupported error=unsupported command: restart']);
});

test('uart killtask: a worker task goes through HiveControl (revoked line, record gone); another task is killed and logged; root-task is protected', () => {
  const h = seeded();
  h.hive.queenCtl('{"spawn":"heartbeat","ticks":3}', { who: { role: 'queen', identity: null, claims: null }, session: h.client().ns });
  const { say } = uart(h);
  deepEqual(say('killtask 10'), ['[killtask] id=10 worker=worker-1', 'OK KILLTASK']);
  equal(h.door.logLines().at(-1), 'revoked worker-1: killed from the UART console');
  deepEqual(h.door.workerIds(), []);
  deepEqual(h.tasks.killed, [10]);
  deepEqual(say('killtask 2'), ['[killtask] id=2 label=net-console', 'OK KILLTASK']);
  equal(h.door.logLines().at(-1), 'killed task 2 net-console: killed from the UART console');
  deepEqual(h.tasks.killed, [10, 2]);
  deepEqual(say('killtask 1'), ['ERR KILLTASK reason=policy detail=denied error=EPERM']);
  deepEqual(say('killtask 99'), ['ERR KILLTASK reason=policy detail=invalid-path error=invalid path']);
  deepEqual(say('killtask worker-1'), ['ERR KILLTASK reason=policy detail=invalid-payload error=invalid payload']);
  deepEqual(h.tasks.killed, [10, 2], 'refusals kill nothing');
});

test('uart kill stays the §3.1 KILL verb (queen, /queen/ctl), not a task kill', () => {
  const h = seeded();
  const { say } = uart(h);
  deepEqual(say('kill 2'), ['ERR KILL reason=policy detail=unauthenticated']);
  deepEqual(h.tasks.killed, []);
});

test('uart lastlog: the newest n log lines (default 16, at most 64), from the injected source', () => {
  const h = seeded();
  const lines = Array.from({ length: 80 }, (_v, i) => `line ${i}`);
  const { say } = uart(h, { logLines: () => lines });
  const def = say('lastlog');
  equal(def.length, 17);
  equal(def[0], '[log] line 64');
  equal(def.at(-2), '[log] line 79');
  deepEqual(say('lastlog 2'), ['[log] line 78', '[log] line 79', 'OK LASTLOG']);
  equal(say('lastlog 500').length, 65);
  deepEqual(say('lastlog 0'), ['OK LASTLOG']);
  deepEqual(say('lastlog -1'), ['ERR LASTLOG reason=policy detail=invalid-payload error=invalid payload']);
});

test('uart lastlog without a source shows what root-task logged', () => {
  const h = seeded();
  const { say } = uart(h);
  deepEqual(say('lastlog'), ['[log] lifecycle transition old=BOOTING new=ONLINE reason=boot-complete', 'OK LASTLOG']);
  const help = say('help');
  ok(help[0].endsWith('tasks restart killtask lastlog'), help[0]);
});
