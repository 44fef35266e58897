// The gpu-bridge-snapshot/v1 text (spec §11.3): strict decode into what /gpu installs, and the matching encoder for host tools and tests.
import { base64Decode, base64Encode } from '../bytes/base64.js';
import { utf8Decode, utf8Encode, utf8Length } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import { nameProblem } from '../secure9p/names.js';
import {
  GPU_CTL_BYTES_MAX, GPU_ID_BYTES_MAX, GPU_INFO_BYTES_MAX, GPU_LEASE_BYTES_MAX, GPU_STATUS_BYTES_MAX, GPU_TELEMETRY_SCHEMA_BYTES_MAX,
  GPUS_MAX, MODEL_MANIFEST_BYTES_MAX, MODELS_MAX,
} from './limits.js';

export const SNAPSHOT_SCHEMA = 'gpu-bridge-snapshot/v1';

export interface GpuNodeSpec {
  id: string;
  info: Uint8Array;
  ctl: Uint8Array;
  lease: Uint8Array;
  status: Uint8Array;
}

export interface ModelSpec {
  id: string;
  manifest: Uint8Array;
}

export interface GpuSnapshot {
  nodes: GpuNodeSpec[];
  models: ModelSpec[];
  active: string;
  telemetrySchema: Uint8Array;
}

const bad = (why: string) => new NineError('Invalid', `snapshot ${why}`);

/** `k=v` tokens with exactly the expected keys, in any order. */
function fields(tokens: string[], keys: readonly string[], what: string): Record<string, string> | NineError {
  const out: Record<string, string> = {};
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) return bad(`${what}: expected k=v, got ${t.slice(0, 32)}`);
    const k = t.slice(0, eq);
    if (!keys.includes(k)) return bad(`${what}: unknown key ${k}`);
    if (k in out) return bad(`${what}: duplicate key ${k}`);
    out[k] = t.slice(eq + 1);
  }
  for (const k of keys) if (!(k in out)) return bad(`${what}: missing ${k}`);
  return out;
}

function idProblem(id: string): string | null {
  return nameProblem(id) ?? (utf8Length(id) > GPU_ID_BYTES_MAX ? `id longer than ${GPU_ID_BYTES_MAX} bytes` : null);
}

function blob(v: string, maxBytes: number, what: string): Uint8Array | NineError {
  const b = base64Decode(v);
  if (b === null) return bad(`${what} is not base64`);
  if (b.length > maxBytes) return bad(`${what} exceeds ${maxBytes} bytes`);
  return b;
}

function isJsonObject(b: Uint8Array): boolean {
  const t = utf8Decode(b);
  if (t === null) return false;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Decodes a snapshot payload; any deviation from the grammar is Invalid with a short reason. */
export function decodeSnapshot(payload: Uint8Array): GpuSnapshot | NineError {
  const text = utf8Decode(payload);
  if (text === null) return bad('is not UTF-8');
  const lines = text.split('\n');
  // One trailing newline is fine; anything after `end` is not.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== `schema ${SNAPSHOT_SCHEMA}`) return bad(`must start with schema ${SNAPSHOT_SCHEMA}`);
  const s: GpuSnapshot = { nodes: [], models: [], active: '', telemetrySchema: new Uint8Array(0) };
  let active: string | null = null;
  let telemetry: Uint8Array | null = null;
  let ended = false;
  for (let i = 1; i < lines.length; i++) {
    if (ended) return bad('has lines after end');
    const [word, ...rest] = lines[i].split(' ');
    switch (word) {
      case 'node': {
        const f = fields(rest, ['id', 'info', 'ctl', 'lease', 'status'], 'node');
        if (f instanceof NineError) return f;
        const p = idProblem(f.id);
        if (p !== null) return bad(`node id: ${p}`);
        if (f.id === 'bridge' || f.id === 'models' || f.id === 'telemetry') return bad(`node id ${f.id} is reserved`);
        if (s.nodes.some((n) => n.id === f.id)) return bad(`duplicate node ${f.id}`);
        if (s.nodes.length >= GPUS_MAX) return bad(`more than ${GPUS_MAX} nodes`);
        const info = blob(f.info, GPU_INFO_BYTES_MAX, 'info');
        const ctl = blob(f.ctl, GPU_CTL_BYTES_MAX, 'ctl');
        const lease = blob(f.lease, GPU_LEASE_BYTES_MAX, 'lease');
        const status = blob(f.status, GPU_STATUS_BYTES_MAX, 'status');
        for (const x of [info, ctl, lease, status]) if (x instanceof NineError) return x;
        if (!isJsonObject(info as Uint8Array)) return bad(`node ${f.id} info is not a JSON object`);
        s.nodes.push({ id: f.id, info: info as Uint8Array, ctl: ctl as Uint8Array, lease: lease as Uint8Array, status: status as Uint8Array });
        break;
      }
      case 'model': {
        const f = fields(rest, ['id', 'manifest'], 'model');
        if (f instanceof NineError) return f;
        const p = idProblem(f.id);
        if (p !== null) return bad(`model id: ${p}`);
        if (s.models.some((m) => m.id === f.id)) return bad(`duplicate model ${f.id}`);
        if (s.models.length >= MODELS_MAX) return bad(`more than ${MODELS_MAX} models`);
        const manifest = blob(f.manifest, MODEL_MANIFEST_BYTES_MAX, 'manifest');
        if (manifest instanceof NineError) return manifest;
        s.models.push({ id: f.id, manifest });
        break;
      }
      case 'active': {
        if (active !== null) return bad('has two active lines');
        const f = fields(rest, ['id'], 'active');
        if (f instanceof NineError) return f;
        const p = idProblem(f.id);
        if (p !== null) return bad(`active id: ${p}`);
        active = f.id;
        break;
      }
      case 'telemetry': {
        if (telemetry !== null) return bad('has two telemetry lines');
        const f = fields(rest, ['schema'], 'telemetry');
        if (f instanceof NineError) return f;
        const t = blob(f.schema, GPU_TELEMETRY_SCHEMA_BYTES_MAX, 'telemetry schema');
        if (t instanceof NineError) return t;
        if (!isJsonObject(t)) return bad('telemetry schema is not a JSON object');
        telemetry = t;
        break;
      }
      case 'end':
        if (rest.length !== 0) return bad('end takes no fields');
        ended = true;
        break;
      default:
        return bad(`unknown line ${(word ?? '').slice(0, 32)}`);
    }
  }
  if (!ended) return bad('has no end line');
  if (active === null) return bad('has no active line');
  if (telemetry === null) return bad('has no telemetry line');
  if (s.models.length > 0 && !s.models.some((m) => m.id === active)) return bad(`active model ${active} is not listed`);
  s.active = active;
  s.telemetrySchema = telemetry;
  return s;
}

/** The snapshot text for a set of nodes and models (gpu-bridge-host --publish, tests). */
export function encodeSnapshot(s: GpuSnapshot): Uint8Array {
  const lines = [`schema ${SNAPSHOT_SCHEMA}`];
  for (const n of s.nodes) {
    lines.push(`node id=${n.id} info=${base64Encode(n.info)} ctl=${base64Encode(n.ctl)} lease=${base64Encode(n.lease)} status=${base64Encode(n.status)}`);
  }
  for (const m of s.models) lines.push(`model id=${m.id} manifest=${base64Encode(m.manifest)}`);
  lines.push(`active id=${s.active}`, `telemetry schema=${base64Encode(s.telemetrySchema)}`, 'end');
  return utf8Encode(lines.join('\n') + '\n');
}
