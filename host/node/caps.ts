// The Node provider of the caps contract: runs the same task bundles in-process on Node with the firmware's grants and bounds.
//
// What differs from the firmware, on purpose: Node has no per-task arena or CPU slice, so memory
// quotas and interrupts are the firmware's alone (a Node task that spins blocks the process).
// net.listen binds asynchronously here: localPort() reports the requested port until the bind
// completes, and a bind failure is logged. Everything else (grants, bounds, error codes,
// delivery order, deferred task start) follows bindings/.
import { UPDATE_IMAGE_BYTES_MAX } from '../../js/root-task/update.js';
import { createServer, type Server, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type {
  Caps, CapName, CapErrorCode, ChannelMessage, ListenHandlers, ListenOptions, TaskConfig, TaskFault, TaskInfo, TaskMain,
} from '../../js/caps/index.js';
import {
  CHANNEL_ENDPOINTS_MAX, CHANNEL_INBOX_BYTES_MAX, CHANNEL_MESSAGE_BYTES_MAX, CHANNEL_QUEUE_DEPTH_MAX, CONSOLE_WRITE_BYTES_MAX,
  LOG_LINE_BYTES_MAX, NET_LISTENERS_MAX, NET_SEND_BUFFER_BYTES_MAX, NET_SOCKETS_MAX, TASKS_MAX, TIMERS_PER_TASK_MAX,
} from '../../js/caps/limits.js';

export interface NodeTaskSpec {
  name: string;
  /** Path of the task's rollup bundle (build/bundles/<task>.js). */
  bundle: string;
  grants: CapName[];
  config?: unknown;
}

export interface NodeHiveOptions {
  tasks: NodeTaskSpec[];
  rootTask: string;
  /** What image.manifest() returns. */
  manifest?: unknown;
  /** Entries image.read() serves. */
  image?: Map<string, Uint8Array>;
  log?: (line: string) => void;
  uartWrite?: (text: string) => void;
}

function capError(name: 'CapabilityError' | 'CapError', cap: CapName, code: CapErrorCode, message: string): Error {
  const e = new Error(message) as Error & { code: CapErrorCode; cap: CapName };
  e.name = name;
  e.code = code;
  e.cap = cap;
  return e;
}

interface Endpoint {
  peer: number;
  peerEp: number;
}

interface NodeTask {
  id: number;
  label: string;
  spec: NodeTaskSpec;
  parent: number;
  args: unknown;
  state: 'running' | 'faulted' | 'exited';
  fault: TaskFault | null;
  detail: string;
  timers: Map<number, ReturnType<typeof setTimeout>>;
  endpoints: (Endpoint | null)[];
  inbox: { ep: number; msg: ChannelMessage; bytes: number }[];
  inboxBytes: number;
  onInput?: (b: Uint8Array) => void;
  onMessage?: (ep: number, msg: ChannelMessage) => void;
  onFault?: (id: number, fault: TaskFault, detail: string) => void;
  onLink?: (ep: number, peerId: number, peerLabel: string) => void;
  /** Links not yet told to JS; messages wait behind them, as in bindings/channel.c. */
  links: { ep: number; peer: number }[];
  /** main has run: until then links and messages wait (as in bindings/, where a task starts on a later turn). */
  started: boolean;
  cpuMs: number;
}

interface NodeConn {
  sock: Socket;
  owner: number;
  closing: boolean;
  handlers: ListenHandlers;
}

export class NodeHive {
  private readonly tasks = new Map<number, NodeTask>();
  private readonly listeners = new Map<number, { server: Server; owner: number; port: number }>();
  private readonly conns = new Map<number, NodeConn>();
  private nextTaskId = 0;
  private nextListener = 0;
  private nextConn = 0;
  private uartOwner = 0;
  private readonly bootMs = performance.now();
  private stopped = false;

  constructor(private readonly opts: NodeHiveOptions) {}

  /** Starts the root task with `rootArgs` as its config.args; resolves once its main has run. */
  async boot(rootArgs: unknown): Promise<number> {
    const root = this.opts.tasks.find((t) => t.name === this.opts.rootTask);
    if (!root) throw new Error(`no root task '${this.opts.rootTask}' among the tasks`);
    const t = this.create(root, root.name, 0, rootArgs);
    await this.start(t);
    return t.id;
  }

  /** Feeds bytes to the UART owner, as the firmware's UART source does. */
  uartInput(bytes: Uint8Array): void {
    const t = this.tasks.get(this.uartOwner);
    if (t?.onInput && t.state === 'running') this.deliver(t, () => t.onInput!(bytes));
  }

  list(): TaskInfo[] {
    return [...this.tasks.values()].map((t) => ({
      id: t.id, label: t.label, task: t.spec.name, state: t.state, fault: t.fault, detail: t.detail,
      arenaBytes: 0, arenaUsedBytes: 0, arenaPeakBytes: 0, cpuMs: t.cpuMs,
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const t of [...this.tasks.values()]) this.kill(t, 'killed');
  }

  private log(who: string, line: string): void {
    const text = `[${who}] ${line}`.slice(0, LOG_LINE_BYTES_MAX);
    (this.opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(text);
  }

  private create(spec: NodeTaskSpec, label: string, parent: number, args: unknown): NodeTask {
    if (this.tasks.size >= TASKS_MAX) throw capError('CapError', 'task', 'Busy', `spawn ${spec.name}: task table full (${TASKS_MAX} tasks)`);
    const t: NodeTask = {
      id: ++this.nextTaskId, label, spec, parent, args, state: 'running', fault: null, detail: '',
      timers: new Map(), endpoints: new Array(CHANNEL_ENDPOINTS_MAX).fill(null), inbox: [], inboxBytes: 0, links: [], started: false, cpuMs: 0,
    };
    this.tasks.set(t.id, t);
    return t;
  }

  /** Imports a fresh module instance (a query string defeats the module cache) and calls its main. */
  private async start(t: NodeTask): Promise<void> {
    let main: TaskMain;
    try {
      const mod = (await import(`${pathToFileURL(t.spec.bundle).href}?task=${t.id}`)) as { default?: unknown };
      if (typeof mod.default !== 'function') throw new Error(`${t.spec.bundle}: bundle has no default export function (its main)`);
      main = mod.default as TaskMain;
    } catch (e) {
      this.fault(t, 'load', (e as Error).message);
      return;
    }
    if (t.state !== 'running') return;
    const config: TaskConfig = { id: t.id, label: t.label, task: t.spec.name, args: t.args ?? t.spec.config ?? null };
    this.deliver(t, () => main(this.capsFor(t), config));
    t.started = true;
    this.pumpInbox(t);
  }

  /** Runs one delivery; like the firmware, an uncaught error is logged and the task goes on. */
  private deliver(t: NodeTask, fn: () => void): void {
    if (t.state !== 'running' || this.stopped) return;
    const t0 = performance.now();
    try {
      fn();
    } catch (e) {
      const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.log(t.label, `uncaught ${text}`);
    } finally {
      t.cpuMs += performance.now() - t0;
    }
  }

  private fault(t: NodeTask, fault: TaskFault, detail: string): void {
    if (t.state !== 'running') return;
    t.state = 'faulted';
    t.fault = fault;
    t.detail = detail;
    this.log(t.label, `task faulted: ${fault} (${detail})`);
    const sup = this.tasks.get(t.parent);
    if (sup?.onFault && sup.state === 'running') setImmediate(() => this.deliver(sup, () => sup.onFault!(t.id, fault, detail)));
    else this.kill(t, 'killed');
  }

  private kill(t: NodeTask, why: TaskFault): void {
    for (const h of t.timers.values()) clearTimeout(h);
    t.timers.clear();
    for (const [id, c] of this.conns) if (c.owner === t.id) (c.sock.destroy(), this.conns.delete(id));
    for (const [id, l] of this.listeners) if (l.owner === t.id) (l.server.close(), this.listeners.delete(id));
    t.endpoints.forEach((e, i) => {
      if (!e) return;
      const peer = this.tasks.get(e.peer);
      if (peer && peer.endpoints[e.peerEp]?.peer === t.id) peer.endpoints[e.peerEp] = null;
      t.endpoints[i] = null;
    });
    if (t.state === 'running') {
      t.state = 'exited';
      t.fault = why;
    }
    this.tasks.delete(t.id);
    if (this.uartOwner === t.id) this.uartOwner = 0;
  }

  private pumpInbox(t: NodeTask): void {
    // Delivered one per macrotask, like one pump turn per message: no task starves the others.
    setImmediate(() => {
      if (!t.started) return; // start() pumps once main has run
      if (!t.onLink) t.links.length = 0; // a task that never asked to hear of links does not care
      while (t.state === 'running' && t.onLink && t.links.length) {
        const l = t.links.shift()!;
        this.deliver(t, () => t.onLink!(l.ep, l.peer, this.tasks.get(l.peer)?.label ?? '?'));
      }
      if (t.state !== 'running' || !t.onMessage || t.inbox.length === 0 || t.links.length) return;
      const m = t.inbox.shift()!;
      t.inboxBytes -= m.bytes;
      this.deliver(t, () => t.onMessage!(m.ep, m.msg));
      if (t.inbox.length) this.pumpInbox(t);
    });
  }

  private capsFor(t: NodeTask): Caps {
    const hive = this;
    const need = (cap: CapName): void => {
      if (!t.spec.grants.includes(cap)) {
        throw capError('CapabilityError', cap, 'ECAP', `capability '${cap}' is not granted to task '${t.label}'`);
      }
    };
    const err = (cap: CapName, code: CapErrorCode, msg: string): Error => capError('CapError', cap, code, msg);
    return {
      log: {
        write(line: string) {
          need('log');
          hive.log(t.label, String(line).split(/[\r\n]/, 1)[0]);
        },
      },
      console: {
        write(text: string) {
          need('console');
          if (text.length > CONSOLE_WRITE_BYTES_MAX) throw err('console', 'TooBig', `console.write of ${text.length} bytes is over ${CONSOLE_WRITE_BYTES_MAX}`);
          (hive.opts.uartWrite ?? ((s: string) => process.stdout.write(s)))(text);
        },
        onInput(handler) {
          need('console');
          t.onInput = handler;
          hive.uartOwner = t.id;
        },
      },
      timer: {
        nowMs: () => (need('timer'), performance.now() - hive.bootMs),
        wallMs: () => (need('timer'), Date.now()),
        setTimeout(fn, ms) {
          need('timer');
          return addTimer(fn, ms, false);
        },
        setInterval(fn, ms) {
          need('timer');
          return addTimer(fn, Math.max(1, ms), true);
        },
        clear(id) {
          need('timer');
          const h = t.timers.get(id);
          if (h !== undefined) {
            clearTimeout(h);
            t.timers.delete(id);
          }
        },
      },
      channel: {
        send(ep, msg) {
          need('channel');
          const e = t.endpoints[ep];
          if (!e) throw err('channel', 'NotFound', `no channel endpoint ${ep}`);
          const peer = hive.tasks.get(e.peer);
          if (!peer || peer.state !== 'running') throw err('channel', 'Closed', `endpoint ${ep}: the peer task is gone`);
          let bytes: number;
          let copy: ChannelMessage;
          if (typeof msg === 'string') {
            bytes = Buffer.byteLength(msg, 'utf8');
            copy = msg;
          } else if (msg instanceof Uint8Array) {
            bytes = msg.length;
            copy = new Uint8Array(msg); // copying, as the firmware does
          } else throw err('channel', 'Invalid', 'a channel message is a string or a Uint8Array');
          if (bytes > CHANNEL_MESSAGE_BYTES_MAX) throw err('channel', 'TooBig', `message of ${bytes} bytes is over ${CHANNEL_MESSAGE_BYTES_MAX}`);
          if (peer.inbox.length >= CHANNEL_QUEUE_DEPTH_MAX || peer.inboxBytes + bytes > CHANNEL_INBOX_BYTES_MAX) {
            throw err('channel', 'Busy', `peer inbox full (${peer.inbox.length} messages, ${peer.inboxBytes} bytes)`);
          }
          peer.inbox.push({ ep: e.peerEp, msg: copy, bytes });
          peer.inboxBytes += bytes;
          if (peer.inbox.length === 1) hive.pumpInbox(peer);
        },
        onMessage(handler) {
          need('channel');
          t.onMessage = handler;
          hive.pumpInbox(t);
        },
        onLink(handler) {
          need('channel');
          t.onLink = handler;
          hive.pumpInbox(t);
        },
      },
      task: {
        spawn(o) {
          need('task');
          const spec = hive.opts.tasks.find((s) => s.name === o.task);
          if (!spec) throw err('task', 'NotFound', `no task '${o.task}' in the manifest`);
          if (spec.name === hive.opts.rootTask) throw err('task', 'Invalid', 'the root task cannot be spawned twice');
          const ep = t.endpoints.findIndex((e, i) => i > 0 && e === null);
          if (ep < 0) throw err('task', 'Busy', `spawner has no free channel endpoint (${CHANNEL_ENDPOINTS_MAX})`);
          const linked = o.link === undefined ? undefined : hive.tasks.get(o.link);
          if (o.link !== undefined && (!linked || linked.state !== 'running' || linked === t)) {
            throw err('task', 'NotFound', `link: no running task ${o.link} to link to`);
          }
          const linkEp = linked ? linked.endpoints.findIndex((e, i) => i > 0 && e === null) : -1;
          if (linked && linkEp < 0) throw err('task', 'Busy', `the linked task has no free channel endpoint (${CHANNEL_ENDPOINTS_MAX})`);
          const child = hive.create(spec, o.label ?? spec.name, t.id, o.args);
          t.endpoints[ep] = { peer: child.id, peerEp: 0 };
          child.endpoints[0] = { peer: t.id, peerEp: ep };
          if (linked) {
            linked.endpoints[linkEp] = { peer: child.id, peerEp: 1 };
            child.endpoints[1] = { peer: linked.id, peerEp: linkEp };
            linked.links.push({ ep: linkEp, peer: child.id });
            hive.pumpInbox(linked);
          }
          void hive.start(child);
          return linked ? { id: child.id, ep, linkEp } : { id: child.id, ep };
        },
        kill(id) {
          need('task');
          const victim = hive.tasks.get(id);
          if (!victim) throw err('task', 'NotFound', `no task ${id}`);
          if (victim === t) throw err('task', 'Invalid', 'a task cannot kill itself');
          hive.kill(victim, 'killed');
        },
        list: () => (need('task'), hive.list()),
        onFault(handler) {
          need('task');
          t.onFault = handler;
        },
        // Node runs bundles as JavaScript modules, not quickjs-ng bytecode: a .qbc file has nothing to run on here.
        reload() {
          need('task');
          throw err('task', 'Invalid', 'hot reload runs .qbc bytecode: only the firmware (cohesix-sim) can do it');
        },
        setBundle() {
          need('task');
          throw err('task', 'Invalid', 'hot reload runs .qbc bytecode: only the firmware (cohesix-sim) can do it');
        },
      },
      image: {
        list() {
          need('image');
          return [...(hive.opts.image ?? new Map()).entries()].map(([name, b]) => ({ name, size: b.length, sha256: '' }));
        },
        read(name) {
          need('image');
          const b = hive.opts.image?.get(name);
          if (!b) throw err('image', 'NotFound', `no image entry '${name}'`);
          return new Uint8Array(b);
        },
        manifest: () => (need('image'), hive.opts.manifest ?? null),
      },
      // Node has no A/B slots to update, as a firmware booted with --image has none: status says so
      // and every other call throws NotFound, exactly as bindings/update.c does without slots.
      update: {
        status: () => (need('update'), { slots: false, running: null, target: null, bytesMax: UPDATE_IMAGE_BYTES_MAX, installed: false, staged: null }),
        begin() {
          need('update');
          throw err('update', 'NotFound', 'this firmware did not boot from A/B slots');
        },
        write() {
          need('update');
          throw err('update', 'NotFound', 'no update is staged');
        },
        commit() {
          need('update');
          throw err('update', 'NotFound', 'no update is staged');
        },
        abort: () => void need('update'),
        restart() {
          need('update');
          throw err('update', 'NotFound', 'no update is installed');
        },
      },
      net: {
        listen(o: ListenOptions, handlers: ListenHandlers) {
          need('net');
          if (typeof o?.host !== 'string' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
            throw err('net', 'Invalid', 'listen needs {host: string, port: 0..65535}');
          }
          if (hive.listeners.size >= NET_LISTENERS_MAX) throw err('net', 'Busy', `listener table full (${NET_LISTENERS_MAX})`);
          const id = ++hive.nextListener;
          const server = createServer((sock) => {
            if (hive.conns.size >= NET_SOCKETS_MAX || t.state !== 'running') return void sock.destroy();
            sock.setNoDelay(true);
            const cid = ++hive.nextConn;
            const c: NodeConn = { sock, owner: t.id, closing: false, handlers };
            hive.conns.set(cid, c);
            // As the firmware's: a socket being closed is not read for its task any more.
            sock.on('data', (b) => {
              if (!c.closing) hive.deliver(t, () => handlers.onData(cid, new Uint8Array(b)));
            });
            sock.on('error', () => sock.destroy());
            sock.on('close', () => {
              if (hive.conns.delete(cid)) hive.deliver(t, () => handlers.onClose(cid));
            });
            hive.deliver(t, () => handlers.onAccept(cid, `${sock.remoteAddress}:${sock.remotePort}`));
          });
          const rec = { server, owner: t.id, port: o.port };
          hive.listeners.set(id, rec);
          server.on('error', (e) => hive.log(t.label, `listen ${o.host}:${o.port} failed: ${(e as Error).message}`));
          server.listen(o.port, o.host, () => {
            const a = server.address();
            if (a && typeof a === 'object') rec.port = a.port;
          });
          return id;
        },
        write(sock, bytes, length) {
          need('net');
          const c = hive.conns.get(sock);
          if (!c || c.owner !== t.id || c.closing) throw err('net', 'Closed', "socket is closed or not this task's");
          if (!(bytes instanceof Uint8Array)) throw err('net', 'Invalid', 'net.write takes a Uint8Array');
          const n = length === undefined ? bytes.length : length;
          if (!Number.isSafeInteger(n) || n < 0 || n > bytes.length) {
            throw err('net', 'Invalid', `net.write length ${String(length)} is not within the ${bytes.length}-byte array`);
          }
          if (c.sock.writableLength + n > NET_SEND_BUFFER_BYTES_MAX) {
            throw err('net', 'Busy', `send buffer full (${c.sock.writableLength} queued, ${NET_SEND_BUFFER_BYTES_MAX} max)`);
          }
          // Copied now, as the firmware's does: Node's socket keeps the array it is given until it
          // is flushed, and the caller may write its buffer again as soon as this returns.
          c.sock.write(Buffer.from(bytes.subarray(0, n)));
        },
        pending(sock) {
          need('net');
          const c = hive.conns.get(sock);
          return c && c.owner === t.id ? c.sock.writableLength : 0;
        },
        pauseReads(sock, paused) {
          need('net');
          const c = hive.conns.get(sock);
          if (!c || c.owner !== t.id || c.closing) return;
          // Node's own flow control: a paused socket stops reading, and the kernel window fills.
          if (paused) c.sock.pause();
          else c.sock.resume();
        },
        close(sock) {
          need('net');
          const c = hive.conns.get(sock);
          if (c && c.owner === t.id && !c.closing) {
            c.closing = true;
            // A socket its task paused (pauseReads) would never read the peer's end, so it would
            // never close and its entry would stay in the table: read on, dropping what comes.
            c.sock.resume();
            c.sock.end();
          }
        },
        closeListener(l) {
          need('net');
          const rec = hive.listeners.get(l);
          if (rec && rec.owner === t.id) {
            rec.server.close();
            hive.listeners.delete(l);
          }
        },
        localPort(l) {
          need('net');
          const rec = hive.listeners.get(l);
          if (!rec || rec.owner !== t.id) throw err('net', 'NotFound', `no listener ${l}`);
          return rec.port;
        },
      },
    };

    function addTimer(fn: () => void, ms: number, periodic: boolean): number {
      if (typeof fn !== 'function') throw err('timer', 'Invalid', 'timer callback must be a function');
      if (t.timers.size >= TIMERS_PER_TASK_MAX) throw err('timer', 'Busy', `task has ${TIMERS_PER_TASK_MAX} live timers already`);
      const id = ++timerSeq;
      const run = (): void => {
        if (!periodic) t.timers.delete(id);
        hive.deliver(t, fn);
      };
      t.timers.set(id, periodic ? setInterval(run, ms) : setTimeout(run, ms));
      return id;
    }
  }
}

let timerSeq = 0;
