// ReloadService over a fake task port: the staged upload's flow, each refusal by name, idle takeover, abandon on close, bundle-only targets and CapError mapping.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import type { ReloadResult, TaskInfo } from '../caps/index.js';
import { AttachGuard } from '../console/attach-guard.js';
import { UartConsoleSession } from '../console/uart.js';
import { utf8Encode } from '../bytes/utf8.js';
import { base64Encode } from '../bytes/base64.js';
import { RELOAD_CHUNK_BYTES_MAX, ReloadRefusal, type ReloadOp } from '../console/reload.js';
import { ConsoleBackends } from './policy/console-backend.js';
import { policyHive, SECRETS } from './policy/policy.support.js';
import { RELOAD_STAGE_BYTES_MAX, RELOAD_STAGE_IDLE_MS, ReloadService, type ReloadTasks } from './reload.js';

/** Root-task's id in the fake task table. */
const ROOT_ID = 1;
/** A .qbc-sized file: the header digest at 72..104 is what the service compares. */
const QBC_BYTES = 400;

function capError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'CapError', code, cap: 'task' });
}

function info(id: number, label: string, task: string, state: TaskInfo['state'] = 'running'): TaskInfo {
  return { id, label, task, state, fault: null, detail: '', arenaBytes: 0, arenaUsedBytes: 0, arenaPeakBytes: 0, cpuMs: 0 };
}

/** The firmware's task table, as ReloadService sees it; records reloads and bundle changes. */
class FakeTasks implements ReloadTasks {
  tasks: TaskInfo[] = [
    info(ROOT_ID, 'root-task', 'root-task'),
    info(2, 'ninedoor', 'ninedoor'),
    info(5, 'worker-1', 'worker-heart'),
    info(6, 'worker-2', 'worker-heart'),
  ];
  readonly reloaded: Array<{ id: number; bytes: number[] }> = [];
  readonly bundles: Array<{ task: string; bytes: number[] }> = [];
  /** Thrown by reload(id). */
  failReload = new Map<number, Error>();
  failBundle: Error | null = null;
  manifest = ['root-task', 'ninedoor', 'worker-heart', 'worker-gpu'];

  list(): TaskInfo[] {
    return this.tasks.map((t) => ({ ...t }));
  }
  reload(id: number, qbc: Uint8Array): ReloadResult {
    const f = this.failReload.get(id);
    if (f !== undefined) throw f;
    this.reloaded.push({ id, bytes: Array.from(qbc) });
    return { id, restored: id === 5, stateDropped: false, snapshotBytes: id === 5 ? 12 : 0, ms: 1.5 };
  }
  setBundle(task: string, qbc: Uint8Array): void {
    if (this.failBundle !== null) throw this.failBundle;
    if (!this.manifest.includes(task)) throw capError('NotFound', `no task '${task}' in the manifest`);
    this.bundles.push({ task, bytes: Array.from(qbc) });
  }
}

function qbcFile(seed = 7): { bytes: Uint8Array; digest: string } {
  const bytes = new Uint8Array(QBC_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  let digest = '';
  for (const b of bytes.subarray(72, 104)) digest += b.toString(16).padStart(2, '0');
  return { bytes, digest };
}

function service(profile = 'dev') {
  const tasks = new FakeTasks();
  const logs: string[] = [];
  const clock = { ms: 1_000 };
  const svc = new ReloadService({
    profile, selfId: ROOT_ID, tasks, manifestTasks: tasks.manifest, nowMs: () => clock.ms, log: (l) => logs.push(l),
  });
  return { svc, tasks, logs, clock };
}

/** The wire text of a stage's answer: `OK <detail>` or `ERR <cls> <tokens>`. */
function wire(r: string | ReloadRefusal): string {
  return r instanceof ReloadRefusal ? `ERR reason=${r.cls} ${r.wire()}` : `OK ${r}`;
}

function chunks(bytes: Uint8Array): Array<ReloadOp & { op: 'data' }> {
  const out: Array<ReloadOp & { op: 'data' }> = [];
  for (let off = 0; off < bytes.length; off += RELOAD_CHUNK_BYTES_MAX) {
    out.push({ op: 'data', offset: off, chunk: bytes.subarray(off, off + RELOAD_CHUNK_BYTES_MAX) });
  }
  return out;
}

/** BEGIN and every DATA stage for `target`; returns the last answer. */
function upload(svc: ReloadService, session: string, target: string, f = qbcFile()): string {
  const b = wire(svc.handle(session, { op: 'begin', target, bytes: f.bytes.length, digest: f.digest }));
  equal(b, `OK stage=begin target=${target} bytes=${f.bytes.length} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`);
  let last = b;
  for (const c of chunks(f.bytes)) last = wire(svc.handle(session, c));
  return last;
}

test('reload service: BEGIN, DATA in order, COMMIT swaps the one labelled task with the whole file', () => {
  const { svc, tasks, logs } = service();
  const f = qbcFile();
  equal(upload(svc, 's1', 'worker-1', f), `OK stage=data received=${QBC_BYTES}`);
  equal(wire(svc.handle('s1', { op: 'commit' })), 'OK stage=commit target=worker-1 tasks=1 restored=1 ms=1.50');
  deepEqual(tasks.reloaded, [{ id: 5, bytes: Array.from(f.bytes) }]);
  deepEqual(tasks.bundles, [], 'a label changes no later spawn');
  ok(logs.some((l) => l.startsWith('reloaded worker-1 (id 5)') && l.includes('state restored (12 bytes)')), logs.join('\n'));
  // The stage is gone after a commit.
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=no-staged-reload');
});

test('reload service: a manifest name swaps every running instance and sets the bundle', () => {
  const { svc, tasks } = service();
  tasks.tasks.push(info(7, 'worker-3', 'worker-heart', 'faulted'));
  const f = qbcFile();
  upload(svc, 's1', 'worker-heart', f);
  equal(wire(svc.handle('s1', { op: 'commit' })), 'OK stage=commit target=worker-heart tasks=2 restored=1 ms=3.00');
  deepEqual(tasks.reloaded.map((r) => r.id), [5, 6], 'running instances only');
  deepEqual(tasks.bundles, [{ task: 'worker-heart', bytes: Array.from(f.bytes) }]);
});

test('reload service: a manifest name with no instance running only sets the bundle', () => {
  const { svc, tasks } = service();
  const f = qbcFile();
  upload(svc, 's1', 'worker-gpu', f);
  equal(wire(svc.handle('s1', { op: 'commit' })), 'OK stage=commit target=worker-gpu tasks=0 restored=0 ms=0.00');
  deepEqual(tasks.reloaded, []);
  deepEqual(tasks.bundles, [{ task: 'worker-gpu', bytes: Array.from(f.bytes) }]);
});

test('reload service: release-image refuses every stage and touches nothing', () => {
  const { svc, tasks } = service('release');
  equal(wire(svc.gate()!), 'ERR reason=policy detail=release-image');
  const f = qbcFile();
  for (const o of [{ op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest }, chunks(f.bytes)[0], { op: 'commit' }, { op: 'abort' }] as ReloadOp[]) {
    equal(wire(svc.handle('s1', o)), 'ERR reason=policy detail=release-image', o.op);
  }
  deepEqual(tasks.reloaded, []);
  deepEqual(tasks.bundles, []);
  equal(service('dev').svc.gate(), null);
});

test('reload service: no-staged-reload for DATA or COMMIT without a BEGIN, or from another session', () => {
  const { svc } = service();
  const f = qbcFile();
  equal(wire(svc.handle('s1', chunks(f.bytes)[0])), 'ERR reason=policy detail=no-staged-reload');
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=no-staged-reload');
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest });
  equal(wire(svc.handle('s2', chunks(f.bytes)[0])), 'ERR reason=policy detail=no-staged-reload');
  equal(wire(svc.handle('s2', { op: 'commit' })), 'ERR reason=policy detail=no-staged-reload');
  // s2's ABORT does not drop s1's stage, and says s2 has none.
  equal(wire(svc.handle('s2', { op: 'abort' })), 'ERR reason=policy detail=no-staged-reload');
  equal(wire(svc.handle('s1', chunks(f.bytes)[0])), `OK stage=data received=${RELOAD_CHUNK_BYTES_MAX}`);
});

test('reload service: out-of-order names the expected offset; a repeated chunk is refused too', () => {
  const { svc } = service();
  const f = qbcFile();
  const [c0, c1] = chunks(f.bytes);
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest });
  equal(wire(svc.handle('s1', c1)), 'ERR reason=policy detail=out-of-order expected=0');
  svc.handle('s1', c0);
  equal(wire(svc.handle('s1', c0)), `ERR reason=policy detail=out-of-order expected=${RELOAD_CHUNK_BYTES_MAX}`);
  // The stage survives a refused chunk: the right one still goes in.
  equal(wire(svc.handle('s1', c1)), `OK stage=data received=${2 * RELOAD_CHUNK_BYTES_MAX}`);
});

test('reload service: invalid-payload for a file shorter than a header, or a chunk past the announced size', () => {
  const { svc } = service();
  const f = qbcFile();
  equal(wire(svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: 104, digest: f.digest })),
    'ERR reason=policy detail=invalid-payload error=shorter than a .qbc header');
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: 105, digest: f.digest });
  equal(wire(svc.handle('s1', { op: 'data', offset: 0, chunk: f.bytes.subarray(0, 106) })),
    'ERR reason=policy detail=invalid-payload bytes=105 error=past the announced size');
});

test('reload service: too-big names the stage bound', () => {
  const { svc } = service();
  equal(wire(svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: RELOAD_STAGE_BYTES_MAX + 1, digest: qbcFile().digest })),
    `ERR reason=quota detail=too-big max=${RELOAD_STAGE_BYTES_MAX}`);
});

test('reload service: incomplete when COMMIT comes before every byte; the stage is gone after', () => {
  const { svc, tasks } = service();
  const f = qbcFile();
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest });
  svc.handle('s1', chunks(f.bytes)[0]);
  equal(wire(svc.handle('s1', { op: 'commit' })), `ERR reason=policy detail=incomplete received=${RELOAD_CHUNK_BYTES_MAX} bytes=${QBC_BYTES}`);
  equal(wire(svc.handle('s1', chunks(f.bytes)[1])), 'ERR reason=policy detail=no-staged-reload');
  deepEqual(tasks.reloaded, []);
});

test('reload service: hash-mismatch when the header does not carry the announced digest', () => {
  const { svc, tasks } = service();
  const f = qbcFile();
  const other = qbcFile(8);
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: other.digest });
  for (const c of chunks(f.bytes)) svc.handle('s1', c);
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=hash-mismatch error=the file does not carry the announced digest');
  deepEqual(tasks.reloaded, []);
});

test('reload service: not-reloadable for root-task at BEGIN; nothing is staged', () => {
  const { svc } = service();
  const f = qbcFile();
  equal(wire(svc.handle('s1', { op: 'begin', target: 'root-task', bytes: f.bytes.length, digest: f.digest })),
    'ERR reason=policy detail=not-reloadable target=root-task error=root-task holds the consoles: flash a new image instead');
  equal(wire(svc.handle('s1', chunks(f.bytes)[0])), 'ERR reason=policy detail=no-staged-reload', 'nothing was staged');
});

test('reload service: invalid-target for a name that is neither a running label nor a manifest task', () => {
  const { svc, tasks } = service();
  const f = qbcFile();
  for (const t of ['worker-9', 'nosuchtask']) {
    equal(wire(svc.handle('s1', { op: 'begin', target: t, bytes: f.bytes.length, digest: f.digest })), `ERR reason=policy detail=invalid-target target=${t}`);
  }
  // A label whose task is no longer running is not a target either.
  tasks.tasks[2].state = 'faulted';
  equal(wire(svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest })), 'ERR reason=policy detail=invalid-target target=worker-1');
});

test('reload service: a label whose task ended between BEGIN and COMMIT → invalid-target, nothing set', () => {
  const { svc, tasks } = service();
  upload(svc, 's1', 'worker-1');
  tasks.tasks = tasks.tasks.filter((t) => t.label !== 'worker-1');
  equal(wire(svc.handle('s1', { op: 'commit' })).split(' error=')[0], 'ERR reason=policy detail=invalid-target');
  deepEqual(tasks.reloaded, []);
  deepEqual(tasks.bundles, []);
});

test('reload service: reload-in-progress while another session stages; taken over after RELOAD_STAGE_IDLE_MS idle', () => {
  const { svc, clock } = service();
  const f = qbcFile();
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest });
  clock.ms += RELOAD_STAGE_IDLE_MS - 1;
  svc.handle('s1', chunks(f.bytes)[0]); // touches the stage
  clock.ms += RELOAD_STAGE_IDLE_MS - 1;
  equal(wire(svc.handle('s2', { op: 'begin', target: 'worker-2', bytes: f.bytes.length, digest: f.digest })),
    'ERR reason=busy detail=reload-in-progress target=worker-1');
  clock.ms += 1;
  equal(wire(svc.handle('s2', { op: 'begin', target: 'worker-2', bytes: f.bytes.length, digest: f.digest })),
    `OK stage=begin target=worker-2 bytes=${QBC_BYTES} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`);
  // s1 lost its stage.
  equal(wire(svc.handle('s1', chunks(f.bytes)[1])), 'ERR reason=policy detail=no-staged-reload');
});

test('reload service: the owner may BEGIN again at once (a fresh stage)', () => {
  const { svc } = service();
  const f = qbcFile();
  svc.handle('s1', { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest });
  svc.handle('s1', chunks(f.bytes)[0]);
  svc.handle('s1', { op: 'begin', target: 'worker-2', bytes: f.bytes.length, digest: f.digest });
  equal(wire(svc.handle('s1', chunks(f.bytes)[1])), 'ERR reason=policy detail=out-of-order expected=0');
});

test('reload service: ABORT and abandon(session) free the stage for others; abandon of another session does not', () => {
  const { svc } = service();
  const f = qbcFile();
  const begin = (s: string) => wire(svc.handle(s, { op: 'begin', target: 'worker-1', bytes: f.bytes.length, digest: f.digest }));
  begin('s1');
  svc.abandon('s2');
  equal(begin('s2'), 'ERR reason=busy detail=reload-in-progress target=worker-1');
  svc.abandon('s1');
  ok(begin('s2').startsWith('OK stage=begin'));
  equal(wire(svc.handle('s2', { op: 'abort' })), 'OK stage=abort');
  ok(begin('s3').startsWith('OK stage=begin'));
});

test('reload service: CapError codes map to rolled-back, refused, busy, invalid-target; non-CapError → internal', () => {
  const cases: Array<[Error, string]> = [
    [capError('Io', 'reload of task 5: main of the new code threw'), 'ERR reason=policy detail=rolled-back error=reload of task 5: main of the new code threw'],
    [capError('Invalid', 'bytecode refused: engine fingerprint mismatch'), 'ERR reason=policy detail=refused error=bytecode refused: engine fingerprint mismatch'],
    [capError('Busy', 'no spare task slot'), 'ERR reason=busy detail=busy error=no spare task slot'],
    [capError('NotFound', 'no task 5'), 'ERR reason=policy detail=invalid-target error=no task 5'],
    [new Error('boom'), 'ERR reason=policy detail=internal error=boom'],
  ];
  for (const [e, want] of cases) {
    const { svc, tasks, logs } = service();
    tasks.failReload.set(5, e);
    upload(svc, 's1', 'worker-1');
    equal(wire(svc.handle('s1', { op: 'commit' })), want);
    deepEqual(tasks.reloaded, []);
    ok(logs.some((l) => l.startsWith('reload of worker-1 refused:')), logs.join('\n'));
  }
});

test('reload service: a refused instance stops the commit before the bundle is set, and says how many swapped before it', () => {
  const { svc, tasks } = service();
  tasks.failReload.set(6, capError('Io', 'restore() of the new code threw'));
  upload(svc, 's1', 'worker-heart');
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=rolled-back swapped=1 of=2 error=restore() of the new code threw');
  deepEqual(tasks.bundles, [], 'later spawns keep the old bundle');
});

test('reload service: setBundle refused → its CapError class', () => {
  const { svc, tasks } = service();
  tasks.failBundle = capError('Invalid', 'bytecode refused: engine fingerprint mismatch');
  upload(svc, 's1', 'worker-gpu');
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=refused error=bytecode refused: engine fingerprint mismatch');
});

// --- through the console backend (policy/console-backend.ts) ---------------------------------

function uartOver(backends: ConsoleBackends, mono: () => number) {
  let out = '';
  const s = new UartConsoleSession({ backend: backends.make('uart'), guard: new AttachGuard(), write: (t) => (out += t) });
  const say = (line: string): string[] => {
    out = '';
    s.receive(utf8Encode(`${line}\n`), mono());
    return out.split('\r\n').slice(1).filter((l) => l !== '' && l !== 'cohesix> ');
  };
  return { say };
}

test('reload console: a queen UART stages and commits; QUIT abandons its stage for the next session', () => {
  const h = policyHive();
  const { svc, tasks } = service();
  const backends = new ConsoleBackends({ hive: h.hive, namespace: h.ns, clock: h.clock, secrets: SECRETS, allowTicketlessQueen: true, reload: svc });
  const a = uartOver(backends, () => h.clock.mono);
  const f = qbcFile();
  deepEqual(a.say('help').some((l) => l.includes(' reload')), true, 'help lists reload on a dev image');
  deepEqual(a.say('attach queen'), ['OK ATTACH role=queen']);
  deepEqual(a.say(`RELOAD BEGIN worker-1 ${QBC_BYTES} ${f.digest}`), [`OK RELOAD stage=begin target=worker-1 bytes=${QBC_BYTES} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`]);
  deepEqual(a.say(`RELOAD DATA 0 ${base64Encode(f.bytes.subarray(0, RELOAD_CHUNK_BYTES_MAX))}`), [`OK RELOAD stage=data received=${RELOAD_CHUNK_BYTES_MAX}`]);
  // Another console is refused while a's stage is fresh.
  const b = uartOver(backends, () => h.clock.mono);
  b.say('attach queen');
  deepEqual(b.say(`RELOAD BEGIN worker-2 ${QBC_BYTES} ${f.digest}`), ['ERR RELOAD reason=busy detail=reload-in-progress target=worker-1']);
  // a quits: its stage goes with it, and b may begin at once.
  a.say('quit');
  deepEqual(b.say(`RELOAD BEGIN worker-2 ${QBC_BYTES} ${f.digest}`), [`OK RELOAD stage=begin target=worker-2 bytes=${QBC_BYTES} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`]);
  for (const c of chunks(f.bytes)) b.say(`RELOAD DATA ${c.offset} ${base64Encode(c.chunk)}`);
  deepEqual(b.say('RELOAD COMMIT'), ['OK RELOAD stage=commit target=worker-2 tasks=1 restored=0 ms=1.50']);
  deepEqual(tasks.reloaded.map((r) => r.id), [6]);
});

test('reload console: a release image answers release-image to an unattached console, and help omits reload', () => {
  const h = policyHive();
  const { svc, tasks } = service('release');
  const backends = new ConsoleBackends({ hive: h.hive, namespace: h.ns, clock: h.clock, secrets: SECRETS, allowTicketlessQueen: true, reload: svc });
  const a = uartOver(backends, () => h.clock.mono);
  ok(!a.say('help').some((l) => l.includes(' reload')), 'help hides reload on a release image');
  deepEqual(a.say('RELOAD COMMIT'), ['ERR RELOAD reason=policy detail=release-image']);
  deepEqual(tasks.reloaded, []);
});
