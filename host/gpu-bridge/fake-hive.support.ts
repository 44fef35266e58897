// Test and bench support: an in-process hive — js/console's TCP session on a loopback socket, its backend forwarding to a real in-memory NineDoor over 9P.
import { createServer, type Server, type Socket } from 'node:net';
import { AttachGuard } from '../../js/console/attach-guard.js';
import { InfoRefusal, type Answer, type CatResult, type ConsoleBackend, type ConsolePrincipal } from '../../js/console/backend.js';
import { ProviderError, type ProviderErrorCode } from '../../js/console/errors.js';
import { TcpConsoleSession } from '../../js/console/session.js';
import { Client, NOW_MS, SECRETS, ticket } from '../../js/ninedoor/door.support.js';
import type { ControlContext, HivePolicy } from '../../js/ninedoor/policy.js';
import { NineDoor } from '../../js/ninedoor/server.js';
import { Errno, NineError } from '../../js/secure9p/errors.js';
import type { Reply } from '../../js/secure9p/messages.js';

export const FAKE_AUTH_TOKEN = 'changeme';

/**
 * The part of root-task policy the bridge depends on (spec §7 spawn gpu / kill, §11.2 lease lines),
 * kept minimal: spawn gpu grants the lease (LEASE ctl line + ACTIVE lease line), kill releases it
 * (RELEASE, RELEASED, LEASE-ENDED), and a queen `RELEASE <worker>` ctl line — the bridge's — clears
 * the holder so the worker's job writes get Permission.
 */
export class GpuPolicy implements HivePolicy {
  door!: NineDoor;
  private next = 1;
  readonly queenLines: string[] = [];

  queenCtl(text: string, _ctx: ControlContext): void | NineError {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.queenLines.push(line);
      let v: { spawn?: string; lease?: { gpu_id: string; mem_mb: number; streams: number; ttl_s: number; priority?: number }; kill?: string };
      try {
        v = JSON.parse(line);
      } catch {
        return new NineError('Invalid', 'invalid payload');
      }
      if (v.spawn === 'gpu' && v.lease !== undefined) {
        const l = v.lease;
        const id = `worker-${this.next++}`;
        const e = this.door.addWorker(id, 'gpu');
        if (e !== null) return e;
        const held = this.door.setLease(l.gpu_id, id);
        if (held !== null) {
          this.door.removeWorker(id);
          return held;
        }
        const p = l.priority ?? 0;
        this.door.appendGpu(l.gpu_id, 'ctl', `LEASE ${id} mem=${l.mem_mb} streams=${l.streams} priority=${p}`);
        this.door.appendGpu(l.gpu_id, 'lease', JSON.stringify({
          schema: 'gpu-lease/v1', state: 'ACTIVE', gpu_id: l.gpu_id, worker_id: id, mem_mb: l.mem_mb, streams: l.streams, ttl_s: l.ttl_s, priority: p,
        }));
        this.door.log(`spawned ${id} gpu=${l.gpu_id} ttl=${l.ttl_s} streams=${l.streams}`);
      } else if (typeof v.kill === 'string') {
        const gpus = this.door.gpu.leasedBy(v.kill);
        const e = this.door.removeWorker(v.kill, 'killed by queen');
        if (e !== null) return e;
        for (const g of gpus) {
          this.door.appendGpu(g, 'ctl', `RELEASE ${v.kill} killed`);
          this.door.appendGpu(g, 'lease', JSON.stringify({ schema: 'gpu-lease/v1', state: 'RELEASED', gpu_id: g, worker_id: v.kill }));
          this.door.appendGpu(g, 'status', JSON.stringify({ job: v.kill, state: 'LEASE-ENDED', detail: 'killed' }));
        }
      } else {
        return new NineError('Invalid', 'invalid payload');
      }
    }
    return undefined;
  }
  lifecycleCtl(): void {}
  gpuAppend(gpuId: string, file: 'ctl' | 'job', text: string): void {
    const m = /^RELEASE (\S+)/.exec(text);
    if (file === 'ctl' && m !== null && this.door.gpu.leaseHolder(gpuId) === m[1]) this.door.setLease(gpuId, null);
  }
}

function providerError(r: Reply): ProviderError {
  const e = r.kind === 'Rlerror' ? r.ecode : -1;
  const code: ProviderErrorCode =
    e === Errno.ENOENT ? 'invalid-path'
      : e === Errno.EPERM || e === Errno.EACCES ? 'denied'
        : e === Errno.EINVAL ? 'invalid-payload'
          : e === Errno.EMSGSIZE ? 'buffer-full'
            : e === Errno.EBUSY ? 'busy'
              : e === Errno.EBADF ? 'root-unreachable' : 'internal';
  return new ProviderError(code, `errno ${e}`);
}

const linesOf = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));

/** A console backend that does what root-task will: each file verb through the session's own 9P attachment. */
class DoorBackend implements ConsoleBackend {
  private client: Client | null = null;
  constructor(private readonly hive: FakeHive) {}
  lifecycleState() {
    return this.hive.door.state.lifecycle.state;
  }
  ticketSecrets() {
    return SECRETS;
  }
  allowTicketlessQueen(): boolean {
    return true;
  }
  wallMs(): number {
    return this.hive.clock.now;
  }
  rootReachable(): boolean {
    return true;
  }
  info(): Answer<string[] | InfoRefusal> {
    return new InfoRefusal('unsupported');
  }
  attach(who: ConsolePrincipal): Answer<void> {
    this.client = new Client(this.hive.door, who.role, '');
    if (this.client.attachReply.kind !== 'Rattach') return providerError(this.client.attachReply);
    return undefined;
  }
  private c(): Client {
    return this.client as Client;
  }
  ls(path: string): Answer<string[]> {
    const r = this.c().ls(path);
    return Array.isArray(r) ? r : providerError(r);
  }
  cat(path: string): Answer<CatResult> {
    const r = this.c().cat(path);
    return typeof r === 'string' ? { lines: linesOf(r) } : providerError(r);
  }
  tail(path: string): Answer<string[]> {
    const r = this.c().cat(path);
    return typeof r === 'string' ? linesOf(r) : providerError(r);
  }
  echo(path: string, payload: string): Answer<void> {
    this.hive.echoes++;
    const r = this.c().append(path, payload + '\n');
    return r.kind === 'Rwrite' ? undefined : providerError(r);
  }
  log(): Answer<string[]> {
    return this.hive.door.logLines();
  }
  spawn(json: string): Answer<void> {
    return this.echo('/queen/ctl', json);
  }
  kill(workerId: string): Answer<void> {
    return this.echo('/queen/ctl', JSON.stringify({ kill: workerId }));
  }
  note(): void {}
  closed(): void {
    if (this.client !== null) this.hive.door.endSession(this.client.ns);
  }
}

export class FakeHive {
  readonly clock = { now: NOW_MS };
  readonly policy = new GpuPolicy();
  readonly door: NineDoor;
  readonly sink: string[] = [];
  echoes = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(o: { mockGpus?: boolean } = {}) {
    this.door = new NineDoor({
      policy: this.policy, log: (l) => this.sink.push(l), nowMs: () => this.clock.now,
      attach: { secrets: SECRETS, allowTicketlessQueen: true }, mockGpus: o.mockGpus ?? true,
    });
    this.policy.door = this.door;
    this.door.state.setLifecycle({ state: 'ONLINE', reason: 'boot-complete', sinceMs: NOW_MS });
    this.server = createServer((sock) => this.accept(sock));
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const session = new TcpConsoleSession({
      authToken: FAKE_AUTH_TOKEN, backend: new DoorBackend(this), guard: new AttachGuard(), nowMs: Date.now(),
      transport: { write: (b) => void sock.write(b), close: () => sock.end() },
    });
    sock.on('data', (b: Buffer) => session.receive(new Uint8Array(b.buffer, b.byteOffset, b.length), Date.now()));
    sock.on('close', () => {
      this.sockets.delete(sock);
      session.peerClosed();
    });
    sock.on('error', () => undefined);
  }

  listen(): Promise<number> {
    return new Promise((res) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as { port: number }).port;
      res(this.port);
    }));
  }

  /** Drops every console connection, as a hive restart or network cut would. */
  cutConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cutConnections();
    return new Promise((res) => this.server.close(() => res()));
  }

  /** A queen 9P client straight onto the namespace, for assertions. */
  queen(): Client {
    return new Client(this.door, 'queen', '');
  }

  /** A worker-gpu 9P client with a minted ticket, as a leased worker would attach. */
  worker(id: string): Client {
    return new Client(this.door, '', ticket({ role: 'worker-gpu', subject: id }));
  }

  text(path: string): string {
    const r = this.queen().cat(path);
    if (typeof r !== 'string') throw new Error(`cat ${path}: ${JSON.stringify(r)}`);
    return r;
  }

  lines(path: string): string[] {
    return linesOf(this.text(path));
  }
}

