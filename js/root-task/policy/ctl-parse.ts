// Strict /queen/ctl line parsing (spec §7): valid JSON, exactly one command, no unknown fields, typed ranges; anything else is Invalid.
import { NineError } from '../../secure9p/errors.js';
import { nameProblem } from '../../secure9p/names.js';
import { parseAbsPath } from '../../ninedoor/binds.js';
import { utf8Length } from '../../bytes/utf8.js';
import { WORKER_ID_BYTES_MAX } from '../../ninedoor/limits.js';
import { U32_MAX, U64_JSON_MAX, U8_MAX } from './limits.js';

/** A budget as written: each member a number, or null when omitted (unbounded for heartbeat, "from the lease" for gpu). */
export interface BudgetSpec {
  ttlS: number | null;
  ops: number | null;
}

export interface LeaseSpec {
  gpuId: string;
  memMb: number;
  streams: number;
  ttlS: number;
  priority: number;
}

export type QueenCommand =
  | { kind: 'spawn-heartbeat'; ticks: number; budget: BudgetSpec | null }
  | { kind: 'spawn-gpu'; lease: LeaseSpec; budget: BudgetSpec | null }
  | { kind: 'kill'; workerId: string }
  | { kind: 'budget'; budget: BudgetSpec }
  | { kind: 'bind'; from: string; to: string }
  | { kind: 'mount'; service: string; at: string };

const COMMAND_KEYS = ['spawn', 'kill', 'budget', 'bind', 'mount'] as const;

/** Thrown inside the parser only; the entry point turns it into the Invalid value. */
class Bad {
  constructor(readonly why: string) {}
}

export function invalidPayload(why: string): NineError {
  return new NineError('Invalid', `invalid payload: ${why}`);
}

type Obj = Record<string, unknown>;

function object(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(`${what} must be an object`);
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new Bad(`unknown field ${what}${k}`);
}

function uint(o: Obj, key: string, max: number, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new Bad(`${what}${key} must be an integer 0..${max}`);
  return v;
}

function optUint(o: Obj, key: string, max: number, what: string): number | null {
  return Object.prototype.hasOwnProperty.call(o, key) ? uint(o, key, max, what) : null;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new Bad(`${what}${key} must be a non-empty string`);
  return v;
}

function absPath(o: Obj, key: string, what: string, notRoot: boolean): string {
  const p = str(o, key, what);
  const parts = parseAbsPath(p, `${what}${key}`);
  if (parts instanceof NineError) throw new Bad(parts.message);
  if (notRoot && parts.length === 0) throw new Bad(`${what}${key} must not be /`);
  return p;
}

function budget(v: unknown, what: string): BudgetSpec {
  const o = object(v, what);
  onlyKeys(o, ['ttl_s', 'ops'], `${what}.`);
  return { ttlS: optUint(o, 'ttl_s', U64_JSON_MAX, `${what}.`), ops: optUint(o, 'ops', U64_JSON_MAX, `${what}.`) };
}

function lease(v: unknown): LeaseSpec {
  const o = object(v, 'lease');
  onlyKeys(o, ['gpu_id', 'mem_mb', 'streams', 'ttl_s', 'priority'], 'lease.');
  const gpuId = str(o, 'gpu_id', 'lease.');
  if (nameProblem(gpuId) !== null) throw new Bad(`lease.gpu_id: ${nameProblem(gpuId)}`);
  const streams = uint(o, 'streams', U8_MAX, 'lease.');
  if (streams === 0) throw new Bad('lease.streams must be at least 1');
  return {
    gpuId,
    memMb: uint(o, 'mem_mb', U32_MAX, 'lease.'),
    streams,
    ttlS: uint(o, 'ttl_s', U32_MAX, 'lease.'),
    // Spec §17.2: optional, default 0.
    priority: optUint(o, 'priority', U8_MAX, 'lease.') ?? 0,
  };
}

function spawn(o: Obj): QueenCommand {
  const kind = o.spawn;
  if (kind === 'heartbeat') {
    onlyKeys(o, ['spawn', 'ticks', 'budget'], '');
    if (!('ticks' in o)) throw new Bad('missing ticks');
    const ticks = uint(o, 'ticks', U64_JSON_MAX, '');
    return { kind: 'spawn-heartbeat', ticks, budget: 'budget' in o ? budget(o.budget, 'budget') : null };
  }
  if (kind === 'gpu') {
    onlyKeys(o, ['spawn', 'lease', 'budget'], '');
    if (!('lease' in o)) throw new Bad('missing lease');
    return { kind: 'spawn-gpu', lease: lease(o.lease), budget: 'budget' in o ? budget(o.budget, 'budget') : null };
  }
  throw new Bad('spawn must be "heartbeat" or "gpu"');
}

function command(o: Obj): QueenCommand {
  if ('spawn' in o) return spawn(o);
  const present = COMMAND_KEYS.filter((k) => k in o);
  if (present.length !== 1) throw new Bad(present.length === 0 ? 'no command' : `more than one command: ${present.join(',')}`);
  const key = present[0];
  onlyKeys(o, [key], '');
  switch (key) {
    case 'kill': {
      const id = str(o, 'kill', '');
      if (nameProblem(id) !== null || utf8Length(id) > WORKER_ID_BYTES_MAX) throw new Bad('kill must name a worker id');
      return { kind: 'kill', workerId: id };
    }
    case 'budget':
      return { kind: 'budget', budget: budget(o.budget, 'budget') };
    case 'bind': {
      const b = object(o.bind, 'bind');
      onlyKeys(b, ['from', 'to'], 'bind.');
      return { kind: 'bind', from: absPath(b, 'from', 'bind.', false), to: absPath(b, 'to', 'bind.', true) };
    }
    default: {
      const m = object(o.mount, 'mount');
      onlyKeys(m, ['service', 'at'], 'mount.');
      const service = str(m, 'service', 'mount.');
      if (nameProblem(service) !== null) throw new Bad(`mount.service: ${nameProblem(service)}`);
      return { kind: 'mount', service, at: absPath(m, 'at', 'mount.', true) };
    }
  }
}

/** One non-blank line of a /queen/ctl write → a command, or Invalid (`invalid payload: <why>`). */
export function parseQueenCtlLine(line: string): QueenCommand | NineError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return invalidPayload('not JSON');
  }
  try {
    return command(object(v, 'command'));
  } catch (e) {
    if (e instanceof Bad) return invalidPayload(e.why);
    throw e;
  }
}

/** The non-blank lines of a write, in order (spec §7: blank lines are skipped). */
export function ctlLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
