// An in-memory hive for `--transport mock` and tests: a ConsoleBackend over a small namespace (§6), /queen/ctl (§7), lifecycle (§9), ingest (§10.3).
import type { LifecycleState } from '../../../js/console/attach-guard.js';
import type { Answer, CatResult, CloseReason, ConsoleBackend, ConsoleNote, ConsolePrincipal, InfoVerb } from '../../../js/console/backend.js';
import { ProviderError } from '../../../js/console/errors.js';
import type { TicketSecrets } from '../../../js/tickets/attach.js';
import { LIFECYCLE_COMMANDS, parseLifecycleCommand, transitionAllowed } from '../lifecycle.js';
import { DEV_TICKET_SECRETS } from '../../../js/tickets/dev-secrets.js';
import { SELFTEST_NAMES, selftestScript } from '../../../js/ninedoor/selftests.js';

/**
 * Status files the hive's own self-tests (js/ninedoor/selftests.ts) read, answered as an idle
 * hive would. Readable, not listed: `ls` shows the mock's documented namespace (docs/cohsh.md).
 */
const SELFTEST_STATUS_FILES: ReadonlyMap<string, string> = new Map([
  ['/proc/9p/session/active', 'active=0 draining=0'],
  ['/proc/pressure/busy', 'busy=0'],
  ['/gpu/bridge/status', 'state=idle'],
]);

/** The /proc/tests script the hive renders when read: it names the worker id the next spawn gets. */
const SELFTEST_FULL_PATH = '/proc/tests/selftest_full.coh';

/** Bounds of the mock, mirroring spec §16 where it has a row. */
const QUEEN_LOG_LINES_MAX = 256;
const RING_LINES_MAX = 64;
const SEGMENTS_PER_DEVICE_MAX = 4;
const SEGMENT_BYTES_MAX = 32_768;
const WORKERS_MAX = 64;
const DEFAULT_BUDGET = { ticks: 1000, ttl: 300, ops: 10_000 };

interface Worker {
  id: string;
  gpu: string | null;
  telemetry: string[];
}

interface Device {
  segments: Map<string, string[]>;
  next: number;
  latest: string | null;
}

/** A script as the lines a cat returns (no empty ones). */
const scriptLines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

const fail = (code: ConstructorParameters<typeof ProviderError>[0], why = code) => new ProviderError(code, why);

/** Shared state of one mock hive; every console session gets a `backend()` over it. */
export class MockHive {
  lifecycle: LifecycleState = 'ONLINE';
  readonly workers = new Map<string, Worker>();
  nextWorker = 1;
  readonly queenLog: string[] = ['Cohesix boot: root-task online', 'lifecycle transition old=BOOTING new=ONLINE reason=boot-complete'];
  readonly operatorLines: string[] = [];
  readonly devices = new Map<string, Device>();
  readonly gpus = new Map<string, string>();
  readonly files = new Map<string, string[]>([
    ['/proc/boot', ['Cohesix boot: root-task online', 'mock hive (cohsh --transport mock)']],
    ['/proc/root/reachable', ['reachable=yes']],
    ...SELFTEST_NAMES.map((name) => [`/proc/tests/${name}`, scriptLines(selftestScript(name, 'worker-1'))] as [string, string[]]),
  ]);
  /** Every ECHO the hive took, as `<path> <payload>`: tests read it. */
  readonly echoes: string[] = [];

  constructor(opts: { seedGpus?: boolean } = {}) {
    if (opts.seedGpus === true) {
      this.gpus.set('GPU-0', '{"id":"GPU-0","name":"Mock 4090","memory_mb":24576,"sm_count":144,"driver_version":"555.0","runtime_version":"12.4"}');
      this.gpus.set('GPU-1', '{"id":"GPU-1","name":"Mock 4060","memory_mb":8192,"sm_count":64,"driver_version":"555.0","runtime_version":"12.4"}');
    }
  }

  log(line: string): void {
    this.queenLog.push(line);
    if (this.queenLog.length > QUEEN_LOG_LINES_MAX) this.queenLog.shift();
  }

  /** Every path the namespace has right now (files only; directories are their prefixes). */
  paths(): string[] {
    const out = [...this.files.keys(), '/log/queen.log', '/queen/ctl', '/queen/lifecycle/ctl', '/proc/lifecycle/state', '/proc/lifecycle/reason'];
    for (const id of this.workers.keys()) out.push(`/worker/${id}/telemetry`);
    for (const [id] of this.gpus) out.push(`/gpu/${id}/info`, `/gpu/${id}/ctl`, `/gpu/${id}/lease`, `/gpu/${id}/status`);
    for (const [dev, d] of this.devices) {
      out.push(`/queen/telemetry/${dev}/ctl`, `/queen/telemetry/${dev}/latest`);
      for (const s of d.segments.keys()) out.push(`/queen/telemetry/${dev}/seg/${s}`);
    }
    return out;
  }

  list(path: string): string[] | null {
    const prefix = path === '/' ? '/' : `${path}/`;
    const names = new Set<string>();
    for (const p of this.paths()) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]);
    if (path === '/') for (const r of ['gpu', 'log', 'proc', 'queen', 'worker']) names.add(r);
    if (path === '/worker' || path === '/gpu') return [...names].sort();
    return names.size === 0 ? null : [...names].sort();
  }

  read(path: string): CatResult | ProviderError {
    if (path === '/log/queen.log') return { lines: [...this.queenLog], digestLines: this.operatorLines, streamContent: false };
    if (path === '/proc/lifecycle/state') return { lines: [`state=${this.lifecycle}`] };
    if (path === '/proc/lifecycle/reason') return { lines: ['reason=boot-complete'] };
    const f = this.files.get(path);
    if (f !== undefined && path === SELFTEST_FULL_PATH) return { lines: scriptLines(selftestScript('selftest_full.coh', `worker-${this.nextWorker}`)) };
    if (f !== undefined) return { lines: [...f] };
    const status = SELFTEST_STATUS_FILES.get(path);
    if (status !== undefined) return { lines: [status] };
    const w = /^\/worker\/([^/]+)\/telemetry$/.exec(path);
    if (w !== null) {
      const worker = this.workers.get(w[1]);
      return worker === undefined ? fail('invalid-path') : { lines: [...worker.telemetry] };
    }
    const g = /^\/gpu\/([^/]+)\/info$/.exec(path);
    if (g !== null && this.gpus.has(g[1])) return { lines: [this.gpus.get(g[1]) as string] };
    const t = /^\/queen\/telemetry\/([^/]+)\/(latest|seg\/(seg-\d{6}))$/.exec(path);
    if (t !== null) {
      const d = this.devices.get(t[1]);
      if (d === undefined) return fail('invalid-path');
      if (t[2] === 'latest') return { lines: d.latest === null ? [] : [d.latest] };
      const seg = d.segments.get(t[3]);
      return seg === undefined ? fail('invalid-path') : { lines: [...seg] };
    }
    return fail('invalid-path');
  }

  write(path: string, payload: string): void | ProviderError {
    if (path === '/queen/ctl') return this.ctl(payload);
    if (path === '/queen/lifecycle/ctl') return this.lifecycleCtl(payload.trim());
    if (path === '/log/queen.log') {
      this.log(payload);
      this.operatorLines.push(payload);
      if (this.operatorLines.length > 16) this.operatorLines.shift();
      return;
    }
    const w = /^\/worker\/([^/]+)\/telemetry$/.exec(path);
    if (w !== null) {
      const worker = this.workers.get(w[1]);
      if (worker === undefined) return fail('invalid-path');
      worker.telemetry.push(payload);
      if (worker.telemetry.length > RING_LINES_MAX) worker.telemetry.shift();
      return;
    }
    const t = /^\/queen\/telemetry\/([^/]+)\/(ctl|seg\/(seg-\d{6}))$/.exec(path);
    if (t !== null) return this.ingest(t[1], t[2] === 'ctl' ? null : t[3], payload);
    if (this.read(path) instanceof ProviderError) return fail('invalid-path');
    return fail('denied');
  }

  private ingest(dev: string, seg: string | null, payload: string): void | ProviderError {
    if (seg === null) {
      let v: unknown;
      try {
        v = JSON.parse(payload);
      } catch {
        return fail('invalid-payload');
      }
      const o = v as Record<string, unknown>;
      if (typeof v !== 'object' || v === null || o.new !== 'segment' || Object.keys(o).some((k) => k !== 'new' && k !== 'mime')) return fail('invalid-payload');
      let d = this.devices.get(dev);
      if (d === undefined) {
        d = { segments: new Map(), next: 1, latest: null };
        this.devices.set(dev, d);
      }
      const id = `seg-${String(d.next++).padStart(6, '0')}`;
      d.segments.set(id, []);
      d.latest = id;
      while (d.segments.size > SEGMENTS_PER_DEVICE_MAX) d.segments.delete(d.segments.keys().next().value as string);
      return;
    }
    const s = this.devices.get(dev)?.segments.get(seg);
    if (s === undefined) return fail('invalid-path');
    if (s.reduce((n, l) => n + l.length + 1, 0) + payload.length + 1 > SEGMENT_BYTES_MAX) return fail('buffer-full');
    s.push(payload);
  }

  private lifecycleCtl(word: string): void | ProviderError {
    const cmd = parseLifecycleCommand(word);
    const old = this.lifecycle;
    if (cmd === null || !transitionAllowed(cmd, old)) {
      this.log(`lifecycle denied action=${word} state=${old} reason=${cmd === null ? 'invalid-command' : 'invalid-transition'}`);
      return fail('invalid-payload');
    }
    if ((cmd === 'drain' || cmd === 'quiesce' || cmd === 'reset') && this.workers.size > 0) {
      this.log(`lifecycle denied action=${cmd} state=${old} reason=outstanding-leases leases=${this.workers.size}`);
      return fail('denied');
    }
    const to: Record<(typeof LIFECYCLE_COMMANDS)[number], LifecycleState> = { cordon: 'DRAINING', drain: 'QUIESCED', quiesce: 'QUIESCED', resume: 'ONLINE', reset: 'BOOTING' };
    this.lifecycle = to[cmd];
    this.log(`lifecycle transition old=${old} new=${this.lifecycle} reason=${cmd}`);
  }

  private newWorkAllowed(): boolean {
    return this.lifecycle === 'ONLINE' || this.lifecycle === 'DEGRADED';
  }

  /** Strict /queen/ctl JSON (spec §7, §17.3), one object per line, first failure stops the rest. */
  private ctl(payload: string): void | ProviderError {
    for (const line of payload.split('\n')) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        return fail('invalid-payload');
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('invalid-payload');
      const o = v as Record<string, unknown>;
      const r = this.ctlOne(o);
      if (r instanceof ProviderError) return r;
    }
  }

  private ctlOne(o: Record<string, unknown>): void | ProviderError {
    const keys = Object.keys(o);
    const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k));
    if (typeof o.kill === 'string' && only('kill')) {
      const w = this.workers.get(o.kill);
      if (w === undefined) return fail('invalid-path');
      this.workers.delete(o.kill);
      this.log(`killed ${o.kill}`);
      this.log(`revoked ${o.kill}: killed by queen`);
      return;
    }
    if (o.spawn === 'heartbeat' && only('spawn', 'ticks', 'budget')) {
      if (typeof o.ticks !== 'number') return fail('invalid-payload');
      if (!this.newWorkAllowed()) return fail('denied');
      if (this.workers.size >= WORKERS_MAX) return fail('busy');
      const b = (o.budget ?? {}) as Record<string, unknown>;
      const id = `worker-${this.nextWorker++}`;
      this.workers.set(id, { id, gpu: null, telemetry: [] });
      const ttl = o.budget === undefined ? DEFAULT_BUDGET.ttl : (b.ttl_s ?? '∞');
      const ops = o.budget === undefined ? DEFAULT_BUDGET.ops : (b.ops ?? '∞');
      this.log(`spawned ${id} ticks=${o.ticks} ttl=${ttl} ops=${ops}`);
      return;
    }
    if (o.spawn === 'gpu' && only('spawn', 'lease', 'budget')) {
      const l = o.lease as Record<string, unknown> | undefined;
      if (typeof l !== 'object' || l === null || typeof l.gpu_id !== 'string' || l.streams === 0) return fail('invalid-payload');
      if (!this.gpus.has(l.gpu_id)) return fail('invalid-path');
      if ([...this.workers.values()].some((w) => w.gpu === l.gpu_id)) return fail('busy');
      if (!this.newWorkAllowed()) return fail('denied');
      const id = `worker-${this.nextWorker++}`;
      this.workers.set(id, { id, gpu: l.gpu_id, telemetry: [] });
      this.log(`spawned ${id} gpu=${l.gpu_id} ttl=${l.ttl_s} streams=${l.streams}`);
      return;
    }
    if (typeof o.bind === 'object' && o.bind !== null && only('bind')) {
      const b = o.bind as Record<string, unknown>;
      if (typeof b.from !== 'string' || typeof b.to !== 'string' || b.to === '/') return fail('invalid-payload');
      if (!this.newWorkAllowed()) return fail('denied');
      if (this.list(b.from) === null && this.read(b.from) instanceof ProviderError) return fail('invalid-path');
      this.log(`bound ${b.from} -> ${b.to}`);
      return;
    }
    if (typeof o.mount === 'object' && o.mount !== null && only('mount')) {
      const m = o.mount as Record<string, unknown>;
      if (m.service !== 'logs' || typeof m.at !== 'string' || m.at === '/') return fail(m.service === 'logs' ? 'invalid-payload' : 'invalid-path');
      if (!this.newWorkAllowed()) return fail('denied');
      this.log(`mounted ${m.service} at ${m.at}`);
      return;
    }
    return fail('invalid-payload');
  }

  /** A console backend for one session over this hive. */
  backend(): ConsoleBackend {
    return new MockBackend(this);
  }
}

class MockBackend implements ConsoleBackend {
  constructor(private readonly hive: MockHive) {}
  lifecycleState(): LifecycleState {
    return this.hive.lifecycle;
  }
  ticketSecrets(): TicketSecrets {
    return DEV_TICKET_SECRETS;
  }
  allowTicketlessQueen(): boolean {
    return true;
  }
  wallMs(): number {
    return Date.now();
  }
  rootReachable(): boolean {
    return this.hive.lifecycle !== 'OFFLINE';
  }
  info(verb: InfoVerb): Answer<string[]> {
    return [`[${verb}] mock hive`];
  }
  attach(_who: ConsolePrincipal): Answer<void> {
    return undefined;
  }
  ls(path: string): Answer<string[]> {
    return this.hive.list(path) ?? fail('invalid-path');
  }
  cat(path: string): Answer<CatResult> {
    return this.hive.read(path);
  }
  tail(path: string): Answer<string[]> {
    const r = this.hive.read(path);
    return r instanceof ProviderError ? r : r.lines.slice(-RING_LINES_MAX);
  }
  echo(path: string, payload: string): Answer<void> {
    this.hive.echoes.push(`${path} ${payload}`);
    return this.hive.write(path, payload);
  }
  log(): Answer<string[]> {
    return [...this.hive.queenLog];
  }
  spawn(json: string): Answer<void> {
    return this.hive.write('/queen/ctl', json);
  }
  kill(workerId: string): Answer<void> {
    return this.hive.write('/queen/ctl', JSON.stringify({ kill: workerId }));
  }
  note(_n: ConsoleNote): void {}
  closed(_reason: CloseReason): void {}
}
