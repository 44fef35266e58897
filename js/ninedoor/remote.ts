// The root-task <-> NineDoor policy protocol over a channel: NineDoor's side (RemotePolicy, door commands).
//
// NineDoor -> root-task (JSON strings on NineDoor's endpoint 0):
//   {"op":"call","id":n,"method":"queenCtl"|"lifecycleCtl","text":line,"who":{role,identity},"session":sid}
//   {"op":"call","id":n,"method":"gpuAppend","gpu":id,"file":"ctl"|"job","text":line,"who":{...}}
//   {"op":"revoked","session":sid,"who":{...}|null,"reason":text}
// root-task -> NineDoor:
//   {"op":"reply","id":n,"error":null|{"code","message","errno"},"ops":[{"bind":[from,to]}|{"mount":[svc,at]}]}
//   {"op":"door","method":<DOOR_METHODS>,"args":[...]}   (fire-and-forget; the channel keeps order)
//
// A /queen/ctl write is sent one line at a time and the next line waits for the answer, so
// "lines apply in order and the first failure stops the rest" holds across the task boundary,
// binds and mounts included (root-task answers them as ops that apply to the writer's session).
import { NineError, type ErrorName } from '../secure9p/errors.js';
import type { Principal } from '../secure9p/fileserver.js';
import type { ControlContext, HivePolicy, RevokedSession } from './policy.js';
import type { NineDoor } from './server.js';
import type { Refusal } from './audit.js';

/** Calls awaiting root-task at once; more are refused Busy rather than queued without bound. */
export const POLICY_CALLS_IN_FLIGHT_MAX = 64;
/** A call root-task has not answered by then is refused Busy (root-task is stuck or gone). */
export const POLICY_CALL_TIMEOUT_MS = 5000;
/** Lines of one control write sent to root-task; spec §7 writes are small. */
export const CONTROL_LINES_PER_WRITE_MAX = 64;

export interface WireWho {
  role: string;
  identity: string | null;
}

export interface WireError {
  code: ErrorName;
  message: string;
  errno?: number;
}

export type SessionOp = { bind: [string, string] } | { mount: [string, string] };

export interface ReplyMessage {
  op: 'reply';
  id: number;
  error: WireError | null;
  ops?: SessionOp[];
}

/** NineDoor methods root-task may drive; nothing else is reachable through the channel. */
export const DOOR_METHODS = [
  'addWorker', 'removeWorker', 'setLease', 'appendGpu', 'installGpus', 'log', 'audit', 'registerService',
  'state.setLifecycle', 'state.setRoot', 'state.setPressure',
] as const;
export type DoorMethod = (typeof DOOR_METHODS)[number];

/** A Refusal from a door command: every field a string (or null), whatever came. */
function refusalFromWire(v: unknown): Refusal {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  return { src: str(o.src) ?? '-', op: str(o.op) ?? '-', role: str(o.role), subject: str(o.subject), path: str(o.path), reason: str(o.reason) ?? '-' };
}

export function whoOnWire(p: Principal | null): WireWho | null {
  return p ? { role: p.role, identity: p.identity } : null;
}

export function errorFromWire(e: WireError): NineError {
  return new NineError(e.code, e.message, e.errno);
}

export function errorToWire(e: NineError): WireError {
  return { code: e.code, message: e.message, errno: e.errno };
}

interface Pending {
  resolve(r: ReplyMessage): void;
  timer: number;
}

export interface RemotePolicyIo {
  send(json: string): void;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** NineDoor's HivePolicy in the firmware: each control line is a call to root-task over the channel. */
export class RemotePolicy implements HivePolicy {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly io: RemotePolicyIo) {}

  /** Feed every `{"op":"reply"}` from root-task here. Unknown ids (timed out) are ignored. */
  onReply(r: ReplyMessage): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    this.io.clearTimeout(p.timer);
    p.resolve(r);
  }

  inFlight(): number {
    return this.pending.size;
  }

  private call(body: Record<string, unknown>): Promise<ReplyMessage> {
    if (this.pending.size >= POLICY_CALLS_IN_FLIGHT_MAX) {
      return Promise.resolve({ op: 'reply', id: 0, error: { code: 'Busy', message: `more than ${POLICY_CALLS_IN_FLIGHT_MAX} policy calls in flight` } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = this.io.setTimeout(() => {
        if (!this.pending.delete(id)) return;
        resolve({ op: 'reply', id, error: { code: 'Busy', message: `root-task did not answer within ${POLICY_CALL_TIMEOUT_MS} ms` } });
      }, POLICY_CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      try {
        this.io.send(JSON.stringify({ op: 'call', id, ...body }));
      } catch (e) {
        this.pending.delete(id);
        this.io.clearTimeout(timer);
        resolve({ op: 'reply', id, error: { code: 'Busy', message: `root-task unreachable: ${(e as Error).message}` } });
      }
    });
  }

  private async controlLines(method: 'queenCtl' | 'lifecycleCtl', text: string, ctx: ControlContext): Promise<void | NineError> {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > CONTROL_LINES_PER_WRITE_MAX) {
      return new NineError('TooBig', `more than ${CONTROL_LINES_PER_WRITE_MAX} lines in one control write`);
    }
    for (const line of lines) {
      const r = await this.call({ method, text: line, who: whoOnWire(ctx.who), session: ctx.session.id });
      if (r.error) return errorFromWire(r.error);
      for (const op of r.ops ?? []) {
        const err = 'bind' in op ? ctx.session.bind(op.bind[0], op.bind[1]) : ctx.session.mount(op.mount[0], op.mount[1]);
        if (err) return err;
      }
    }
  }

  queenCtl(text: string, ctx: ControlContext): Promise<void | NineError> {
    return this.controlLines('queenCtl', text, ctx);
  }

  lifecycleCtl(text: string, ctx: ControlContext): Promise<void | NineError> {
    return this.controlLines('lifecycleCtl', text, ctx);
  }

  async gpuAppend(gpuId: string, file: 'ctl' | 'job', text: string, who: Principal): Promise<void | NineError> {
    const r = await this.call({ method: 'gpuAppend', gpu: gpuId, file, text, who: whoOnWire(who) });
    if (r.error) return errorFromWire(r.error);
  }

  sessionRevoked(s: RevokedSession): void {
    try {
      this.io.send(JSON.stringify({ op: 'revoked', session: s.sessionId, who: whoOnWire(s.who), reason: s.reason }));
    } catch {
      // root-task is gone: there is nobody to tell, and NineDoor already logged the revocation.
    }
  }
}

/**
 * Applies one `{"op":"door"}` command from root-task. Returns null, or the refusal as a wire
 * error: a fire-and-forget command's refusal is logged by the NineDoor task (root-task's view and
 * NineDoor's then disagree, which must be visible), an answered one (`id`) goes back to root-task.
 */
export function applyDoorCommand(door: NineDoor, method: unknown, args: unknown): WireError | null {
  if (typeof method !== 'string' || !(DOOR_METHODS as readonly string[]).includes(method) || !Array.isArray(args)) {
    return { code: 'Invalid', message: `door command refused: unknown method ${JSON.stringify(method)}` };
  }
  const a = args as unknown[];
  let r: NineError | null | void = null;
  switch (method as DoorMethod) {
    case 'addWorker':
      r = door.addWorker(String(a[0]), a[1] === 'gpu' ? 'gpu' : 'heartbeat', (a[2] ?? {}) as Parameters<NineDoor['addWorker']>[2]);
      break;
    case 'removeWorker':
      r = door.removeWorker(String(a[0]), a[1] === undefined || a[1] === null ? undefined : String(a[1]));
      break;
    case 'setLease':
      r = door.setLease(String(a[0]), a[1] === null ? null : String(a[1]));
      break;
    case 'appendGpu':
      r = door.appendGpu(String(a[0]), a[1] as Parameters<NineDoor['appendGpu']>[1], String(a[2]));
      break;
    case 'installGpus':
      r = door.installGpus(a[0] as Parameters<NineDoor['installGpus']>[0]);
      break;
    case 'log':
      door.log(String(a[0]));
      break;
    case 'audit':
      door.audit(refusalFromWire(a[0]));
      break;
    case 'registerService':
      r = door.registerService(String(a[0]), String(a[1]));
      break;
    case 'state.setLifecycle':
      door.state.setLifecycle(a[0] as Parameters<NineDoor['state']['setLifecycle']>[0]);
      break;
    case 'state.setRoot':
      door.state.setRoot(a[0] as Parameters<NineDoor['state']['setRoot']>[0]);
      break;
    case 'state.setPressure':
      door.state.setPressure(a[0] as Parameters<NineDoor['state']['setPressure']>[0]);
      break;
  }
  return r ? errorToWire(r) : null;
}
