// Test support for console sessions: a scripted fake backend and a transport that records frames, sharing one trace.
import { AttachGuard, type LifecycleState } from './attach-guard.js';
import type { Answer, CatResult, CloseReason, ConsoleBackend, ConsoleNote, ConsolePrincipal, InfoVerb } from './backend.js';
import { InfoRefusal } from './backend.js';
import { ProviderError } from './errors.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import { TcpConsoleSession, type ConsoleTransport } from './session.js';
import { deepEqual } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';

/** The reference dev secrets (spec §8.3). */
export const DEV_SECRETS = { queen: 'bootstrap', 'worker-heartbeat': 'worker', 'worker-gpu': 'worker-gpu', 'worker-bus': 'worker-bus', 'worker-lora': 'worker-lora' };

/**
 * Records every call as `call <verb> <args>` in `trace`; answers from `files`, or with the
 * refusal in `fail[verb]`. With `async` set every answer comes a microtask later.
 */
export class FakeBackend implements ConsoleBackend {
  lifecycle: LifecycleState = 'ONLINE';
  ticketless = true;
  wall = 1_000_000;
  reachable = true;
  async = false;
  fail: Record<string, ProviderError | InfoRefusal | undefined> = {};
  files = new Map<string, string[]>([
    ['/log/queen.log', ['boot', 'spawned worker-1 ticks=5 ttl=300 ops=10000']],
    ['/worker/worker-1/telemetry', ['{"tick":1}', '{"tick":2}']],
    ['/proc/boot', ['Cohesix boot: root-task online', '[net] up', 'ready']],
    ['/', ['gpu', 'log', 'proc', 'queen', 'worker']],
  ]);
  notes: ConsoleNote[] = [];
  closedWith: CloseReason[] = [];
  /** Pending answers when `hold` is set: the test releases them. */
  hold = false;
  held: Array<() => void> = [];

  constructor(readonly trace: string[] = []) {}

  lifecycleState(): LifecycleState {
    return this.lifecycle;
  }
  ticketSecrets() {
    return DEV_SECRETS;
  }
  allowTicketlessQueen(): boolean {
    return this.ticketless;
  }
  wallMs(): number {
    return this.wall;
  }
  rootReachable(): boolean {
    return this.reachable;
  }

  private answer<T>(verb: string, args: string, value: () => T): Answer<T> {
    this.trace.push(`call ${verb}${args === '' ? '' : ' ' + args}`);
    // Read `fail` when the answer is made, so a held answer can still be turned into a refusal.
    const v = (): T | ProviderError => {
      const f = this.fail[verb];
      return f instanceof ProviderError ? f : f instanceof InfoRefusal ? (f as unknown as T) : value();
    };
    if (this.hold) return new Promise((res) => this.held.push(() => res(v())));
    return this.async ? Promise.resolve().then(v) : v();
  }

  /** Releases held answers in order; returns how many. */
  release(): number {
    const n = this.held.length;
    for (const r of this.held.splice(0)) r();
    return n;
  }

  info(verb: InfoVerb, count: number): Answer<string[] | InfoRefusal> {
    return this.answer<string[] | InfoRefusal>(verb, verb === 'cachelog' ? String(count) : '', () => [`[${verb}] line`]);
  }
  attach(who: ConsolePrincipal): Answer<void> {
    return this.answer('attach', who.role, () => undefined);
  }
  ls(path: string): Answer<string[]> {
    return this.answer('ls', path, () => this.files.get(path) ?? []);
  }
  cat(path: string): Answer<CatResult> {
    return this.answer('cat', path, () => ({ lines: this.files.get(path) ?? [] }));
  }
  tail(path: string): Answer<string[]> {
    return this.answer('tail', path, () => this.files.get(path) ?? []);
  }
  echo(path: string, payload: string): Answer<void> {
    return this.answer('echo', `${path} ${payload}`, () => undefined);
  }
  log(): Answer<string[]> {
    return this.answer('log', '', () => this.files.get('/log/queen.log') ?? []);
  }
  spawn(json: string): Answer<void> {
    return this.answer('spawn', json, () => undefined);
  }
  kill(workerId: string): Answer<void> {
    return this.answer('kill', workerId, () => undefined);
  }
  note(n: ConsoleNote): void {
    this.notes.push(n);
  }
  closed(reason: CloseReason): void {
    this.trace.push(`closed ${reason}`);
    this.closedWith.push(reason);
  }
}

/** A transport that decodes what the session writes as a client would, into `> <line>` trace entries. */
export class RecordingTransport implements ConsoleTransport {
  readonly lines: string[] = [];
  readonly raw: Uint8Array[] = [];
  closed = false;
  /** Make write throw, as a full NetCap send buffer does. */
  full = false;
  private readonly client = new FrameDecoder('client');

  constructor(readonly trace: string[] = []) {}

  write(bytes: Uint8Array): void {
    if (this.full) throw new Error('Busy');
    this.raw.push(bytes);
    for (const ev of this.client.push(bytes)) {
      if (ev.kind !== 'frame') throw new Error(`server sent a bad frame: ${JSON.stringify(ev)}`);
      this.lines.push(ev.text);
      this.trace.push(`> ${ev.text}`);
    }
  }
  close(): void {
    this.closed = true;
    this.trace.push('transport close');
  }
  /** Reads are paused now (TCP back-pressure); each change is traced. */
  paused = false;
  pauseReads(paused: boolean): void {
    this.paused = paused;
    this.trace.push(paused ? 'transport pause' : 'transport resume');
  }
}

/** A client frame. */
export function frame(text: string): Uint8Array {
  const f = encodeFrame(text, 1 << 20);
  if (!(f instanceof Uint8Array)) throw new Error(f.message);
  return f;
}

/** A frame with any declared length and payload bytes. */
export function rawFrame(declared: number, payload: Uint8Array | string): Uint8Array {
  const p = typeof payload === 'string' ? utf8Encode(payload) : payload;
  const out = new Uint8Array(4 + p.length);
  new DataView(out.buffer).setUint32(0, declared, true);
  out.set(p, 4);
  return out;
}

/** Lets pending promise continuations run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A TCP console session on a FakeBackend and a RecordingTransport sharing one trace, not yet authenticated. */
export function open(token = 'changeme') {
  const trace: string[] = [];
  const backend = new FakeBackend(trace);
  const transport = new RecordingTransport(trace);
  const session = new TcpConsoleSession({ authToken: token, backend, guard: new AttachGuard(), transport, nowMs: 0 });
  const send = (text: string, nowMs = 1) => session.receive(frame(text), nowMs);
  /** Lines sent since the last call. */
  let seen = 0;
  const out = () => {
    const l = transport.lines.slice(seen);
    seen = transport.lines.length;
    return l;
  };
  return { trace, backend, transport, session, send, out };
}

/** A session past `AUTH changeme`. */
export function authed() {
  const h = open();
  h.send('AUTH changeme');
  deepEqual(h.out(), ['OK AUTH']);
  return h;
}

/** A session attached as queen. */
export function attachedQueen() {
  const h = authed();
  h.send('ATTACH queen');
  deepEqual(h.out(), ['OK ATTACH role=queen']);
  return h;
}
