// Test support for root-task policy: a real NineDoor driven by HiveControl, fake task and clock ports, and an in-memory NamespacePort over 9P.
import { utf8Encode } from '../../bytes/utf8.js';
import { NineError } from '../../secure9p/errors.js';
import type { Reply } from '../../secure9p/messages.js';
import { NineDoor } from '../../ninedoor/server.js';
import { Client } from '../../ninedoor/door.support.js';
import type { TaskInfo } from '../../caps/index.js';
import type { TicketRole } from '../../tickets/claims.js';
import { HiveControl } from './hive-control.js';
import { ConsoleBackends, nineErrorOfErrno } from './console-backend.js';
import {
  deferredPolicy, nineDoorPort, TaskSpawnError, type Clock, type NamespaceHandle, type NamespacePort, type NsAnswer, type TaskLister,
  type TaskPort, type WorkerArgs, type WorkerTaskKind,
} from './ports.js';

/** Reference dev secrets (spec §8.3). */
export const SECRETS = { queen: 'bootstrap', 'worker-heartbeat': 'worker', 'worker-gpu': 'worker-gpu' };
export const WALL0_MS = 1_700_000_000_000;

export class FakeClock implements Clock {
  mono = 1_000;
  wall = WALL0_MS;
  nowMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  advance(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }
}

export interface SpawnedTask {
  id: number;
  kind: WorkerTaskKind;
  label: string;
  args: WorkerArgs;
}

/** The task capability: ids from 10, every spawn and kill recorded; `failNext` makes one spawn fail. */
export class FakeTasks implements TaskPort, TaskLister {
  readonly spawned: SpawnedTask[] = [];
  readonly killed: number[] = [];
  readonly others: TaskInfo[] = [];
  failNext: TaskSpawnError | Error | null = null;
  private next = 10;

  spawnWorker(kind: WorkerTaskKind, label: string, args: WorkerArgs): number | TaskSpawnError {
    const f = this.failNext;
    this.failNext = null;
    if (f instanceof Error) throw f;
    if (f !== null) return f;
    const id = this.next++;
    this.spawned.push({ id, kind, label, args });
    return id;
  }
  killTask(id: number): void {
    this.killed.push(id);
  }
  live(): SpawnedTask[] {
    return this.spawned.filter((t) => !this.killed.includes(t.id));
  }
  byLabel(label: string): SpawnedTask {
    const t = this.spawned.find((s) => s.label === label);
    if (t === undefined) throw new Error(`no task ${label}`);
    return t;
  }
  list(): TaskInfo[] {
    const workers = this.live().map((t): TaskInfo => ({
      id: t.id, label: t.label, task: `worker-${t.kind}`, state: 'running', fault: null, detail: '',
      arenaBytes: 262144, arenaUsedBytes: 40000 + t.id, arenaPeakBytes: 50000, cpuMs: 12.4,
    }));
    return [...this.others, ...workers];
  }
}

function errOf(r: Reply): NineError {
  return r.kind === 'Rlerror' ? nineErrorOfErrno(r.ecode) : new NineError('Invalid', `unexpected ${r.kind}`);
}

/** The NamespacePort (root-task/namespace.ts is the firmware's, a 9P client over the NineDoor channel), here over the real Session and codec of an in-process NineDoor. */
export class InMemoryNamespace implements NamespacePort {
  readonly clients: Client[] = [];
  constructor(private readonly door: NineDoor) {}

  attach(role: TicketRole, identity: string | null, ticket: string | null): NsAnswer<NamespaceHandle> {
    void identity;
    const c = ticket === null ? new Client(this.door, role, '') : new Client(this.door, '', ticket);
    if (c.attachReply.kind !== 'Rattach') {
      this.door.endSession(c.ns);
      return errOf(c.attachReply);
    }
    this.clients.push(c);
    const door = this.door;
    const read = (path: string): Uint8Array | NineError => {
      const t = c.cat(path);
      return typeof t === 'string' ? utf8Encode(t) : errOf(t);
    };
    return {
      ls: (path) => {
        const r = c.ls(path);
        return Array.isArray(r) ? r : errOf(r);
      },
      cat: read,
      tail: read,
      echo: (path, payload) => {
        const r = c.append(path, `${payload}\n`);
        return r.kind === 'Rwrite' ? undefined : errOf(r);
      },
      close: () => door.endSession(c.ns),
    };
  }
}

export interface PolicyHive {
  door: NineDoor;
  hive: HiveControl;
  tasks: FakeTasks;
  clock: FakeClock;
  sink: string[];
  ns: InMemoryNamespace;
  backends: ConsoleBackends;
  /** A 9P client of its own (queen by default). */
  client(uname?: string, aname?: string): Client;
  /** Lines of /log/queen.log that start with one of the prefixes. */
  logged(...prefixes: string[]): string[];
}

export function policyHive(opts: { boot?: boolean; liveWorkersMax?: number } = {}): PolicyHive {
  const clock = new FakeClock();
  const tasks = new FakeTasks();
  const sink: string[] = [];
  let hive: HiveControl | null = null;
  const door = new NineDoor({
    policy: deferredPolicy(() => hive as HiveControl),
    log: (l) => sink.push(l),
    nowMs: () => clock.wallMs(),
    attach: { secrets: SECRETS, allowTicketlessQueen: true },
    mockGpus: true,
  });
  hive = new HiveControl({ nineDoor: nineDoorPort(door), tasks, clock, secrets: SECRETS, liveWorkersMax: opts.liveWorkersMax });
  if (opts.boot !== false) hive.bootComplete();
  const ns = new InMemoryNamespace(door);
  const backends = new ConsoleBackends({ hive, namespace: ns, clock, secrets: SECRETS, allowTicketlessQueen: true });
  return {
    door, hive, tasks, clock, sink, ns, backends,
    client: (u = 'queen', a = '') => new Client(door, u, a),
    logged: (...prefixes) => door.logLines().filter((l) => prefixes.some((p) => l.startsWith(p))),
  };
}

/** Writes one /queen/ctl text as the queen over 9P; the Rwrite or Rlerror. */
export function ctl(h: PolicyHive, text: string, who = h.client()): Reply {
  return who.append('/queen/ctl', text);
}

export function lifecycle(h: PolicyHive, word: string, who = h.client()): Reply {
  return who.append('/queen/lifecycle/ctl', word);
}
