// root-task's side of the NineDoor channel: routed 9P sessions out, policy calls in, door commands out.
import { NineError } from '../secure9p/errors.js';
import type { Principal } from '../secure9p/fileserver.js';
import type { TicketRole } from '../tickets/index.js';
import type { ControlContext, HivePolicy, SessionView } from './policy.js';
import { errorFromWire, errorToWire, type DoorMethod, type SessionOp, type WireError, type WireWho } from './remote.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME, WIRE_SESSIONS_PER_EP_MAX } from './wire.js';

/** What a routed session needs from its owner (a 9P client): frames in, and the end. */
export interface RoutedPeer {
  receive(frame: Uint8Array): void;
  closed(reason: string): void;
}

export interface NineDoorLinkIo {
  /** Sends one message to NineDoor's endpoint (root-task's channel endpoint for the NineDoor task). */
  send(msg: Uint8Array | string): void;
  log(line: string): void;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** Answered door commands awaiting NineDoor at once; more are refused Busy. */
export const DOOR_CALLS_IN_FLIGHT_MAX = 64;
/** An answered door command NineDoor has not answered by then is refused Busy. */
export const DOOR_CALL_TIMEOUT_MS = 5000;

/**
 * Multiplexes root-task's 9P sessions (one per attached console session, plus its own) over the
 * one channel to NineDoor, answers NineDoor's policy calls with the local HivePolicy, and sends
 * door commands. Session 0 is root-task's own; console sessions take 1..WIRE_SESSIONS_PER_EP_MAX-1.
 */
export class NineDoorLink {
  private readonly peers = new Map<number, RoutedPeer>();
  private policy: HivePolicy | null = null;
  private readyPort: number | null = null;
  private readonly readyWaiters: ((port: number) => void)[] = [];
  private readonly doorCalls = new Map<number, { resolve(e: NineError | null): void; timer: number }>();
  private nextDoorCall = 1;

  constructor(private readonly io: NineDoorLinkIo) {}

  setPolicy(p: HivePolicy): void {
    this.policy = p;
  }

  /** NineDoor said it is serving; port is its Secure9P TCP port (0 = none). */
  onReady(fn: (ninepPort: number) => void): void {
    if (this.readyPort !== null) fn(this.readyPort);
    else this.readyWaiters.push(fn);
  }

  /** Opens a routed session; null when all session numbers are taken. */
  open(peer: RoutedPeer, fixedSession?: number): { session: number; send(frame: Uint8Array): void; close(): void } | null {
    let sid = fixedSession ?? -1;
    if (sid < 0) {
      for (let i = 1; i < WIRE_SESSIONS_PER_EP_MAX; i++) {
        if (!this.peers.has(i)) {
          sid = i;
          break;
        }
      }
    }
    if (sid < 0 || this.peers.has(sid)) return null;
    this.peers.set(sid, peer);
    return {
      session: sid,
      send: (frame) => this.io.send(encodeWire(WIRE_FRAME, sid, frame)),
      close: () => {
        if (this.peers.get(sid) !== peer) return;
        this.peers.delete(sid);
        try {
          this.io.send(encodeWire(WIRE_CLOSE, sid));
        } catch {
          // NineDoor is gone; nothing to close there
        }
      },
    };
  }

  /** Every message from NineDoor's endpoint comes here. */
  receive(msg: Uint8Array | string): void {
    if (typeof msg === 'string') return this.control(msg);
    const w = decodeWire(msg);
    if (!w) return this.io.log('malformed routed frame from NineDoor dropped');
    const peer = this.peers.get(w.session);
    if (!peer) return;
    if (w.kind === WIRE_CLOSE) {
      this.peers.delete(w.session);
      peer.closed('closed by NineDoor');
    } else peer.receive(w.payload);
  }

  /** NineDoor is gone (task died): every routed session ends. */
  lost(reason: string): void {
    for (const [sid, p] of [...this.peers]) {
      this.peers.delete(sid);
      p.closed(reason);
    }
  }

  door(method: DoorMethod, ...args: unknown[]): void {
    try {
      this.io.send(JSON.stringify({ op: 'door', method, args }));
    } catch (e) {
      this.io.log(`door command ${method} not delivered: ${(e as Error).message}`);
    }
  }

  /** A door command whose answer matters (setLease): resolves with NineDoor's refusal or null. */
  doorCall(method: DoorMethod, ...args: unknown[]): Promise<NineError | null> {
    if (this.doorCalls.size >= DOOR_CALLS_IN_FLIGHT_MAX) {
      return Promise.resolve(new NineError('Busy', `more than ${DOOR_CALLS_IN_FLIGHT_MAX} door calls in flight`));
    }
    const id = this.nextDoorCall++;
    return new Promise((resolve) => {
      const timer = this.io.setTimeout(() => {
        if (this.doorCalls.delete(id)) resolve(new NineError('Busy', `NineDoor did not answer ${method} within ${DOOR_CALL_TIMEOUT_MS} ms`));
      }, DOOR_CALL_TIMEOUT_MS);
      this.doorCalls.set(id, { resolve, timer });
      try {
        this.io.send(JSON.stringify({ op: 'door', id, method, args }));
      } catch (e) {
        this.doorCalls.delete(id);
        this.io.clearTimeout(timer);
        resolve(new NineError('Busy', `NineDoor unreachable: ${(e as Error).message}`));
      }
    });
  }

  private reply(id: number, error: NineError | null, ops: SessionOp[] = []): void {
    try {
      this.io.send(JSON.stringify({ op: 'reply', id, error: error ? errorToWire(error) : null, ops }));
    } catch (e) {
      this.io.log(`policy reply ${id} not delivered: ${(e as Error).message}`);
    }
  }

  private control(json: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(json) as Record<string, unknown>;
    } catch {
      return this.io.log('control message from NineDoor is not JSON: ignored');
    }
    if (m.op === 'ready') {
      this.readyPort = Number(m.ninep_port) || 0;
      for (const w of this.readyWaiters.splice(0)) w(this.readyPort);
      return;
    }
    if (m.op === 'door-reply') {
      const c = this.doorCalls.get(Number(m.id));
      if (!c) return;
      this.doorCalls.delete(Number(m.id));
      this.io.clearTimeout(c.timer);
      c.resolve(m.error ? errorFromWire(m.error as WireError) : null);
      return;
    }
    if (m.op === 'revoked') {
      this.policy?.sessionRevoked?.({ sessionId: Number(m.session), who: principal(m.who as WireWho | null), reason: String(m.reason) });
      return;
    }
    if (m.op !== 'call') return this.io.log(`control op ${JSON.stringify(m.op)} from NineDoor ignored`);
    const id = Number(m.id);
    const policy = this.policy;
    if (!policy) return this.reply(id, new NineError('Busy', 'root-task policy not ready'));
    const who = principal(m.who as WireWho | null);
    const text = String(m.text ?? '');
    const settle = (r: unknown, ops: SessionOp[]): void => {
      if (r instanceof NineError) this.reply(id, r);
      else this.reply(id, null, ops);
    };
    const run = (fn: () => unknown, ops: SessionOp[]): void => {
      let r: unknown;
      try {
        r = fn();
      } catch (e) {
        return this.reply(id, new NineError('Invalid', `policy failed: ${(e as Error).message}`));
      }
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then((v) => settle(v, ops), (e: unknown) => this.reply(id, new NineError('Invalid', `policy failed: ${String(e)}`)));
      } else settle(r, ops);
    };
    if (!who) return this.reply(id, new NineError('Permission', 'control write without an attached principal'));
    if (m.method === 'queenCtl' || m.method === 'lifecycleCtl') {
      const ops: SessionOp[] = [];
      const ctx: ControlContext = { who, session: recordingSession(Number(m.session), who, ops) };
      const method = m.method;
      run(() => (method === 'queenCtl' ? policy.queenCtl(text, ctx) : policy.lifecycleCtl(text, ctx)), ops);
    } else if (m.method === 'gpuAppend') {
      const file = m.file === 'job' ? 'job' : 'ctl';
      run(() => policy.gpuAppend?.(String(m.gpu), file, text, who), []);
    } else this.reply(id, new NineError('Invalid', `unknown policy method ${JSON.stringify(m.method)}`));
  }
}

function principal(w: WireWho | null): Principal | null {
  return w ? { role: w.role as TicketRole, identity: w.identity, claims: null } : null;
}

/** The writer's session as root-task sees it: binds and mounts become ops NineDoor applies to it. */
function recordingSession(id: number, who: Principal, ops: SessionOp[]): SessionView {
  return {
    id,
    who: () => who,
    bind(from, to) {
      ops.push({ bind: [from, to] });
      return null;
    },
    mount(service, at) {
      ops.push({ mount: [service, at] });
      return null;
    },
  };
}
