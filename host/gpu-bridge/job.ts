// Validates one /gpu/<id>/job line (spec §11.4) strictly, and sizes it for the CPU kernels; refusals carry a stable code.
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode } from '../../js/bytes/base64.js';
import { toHex, utf8Length } from '../../js/bytes/utf8.js';
import {
  GPU_JOB_RECORD_BYTES_MAX, JOB_BUFFER_NAME_BYTES_MAX, JOB_BUFFERS_MAX, JOB_ID_BYTES_MAX, JOB_TIMEOUT_MS_MAX, JOB_TIMEOUT_MS_MIN,
  MATMUL_DIM_MAX, VADD_ELEMENTS_MAX,
} from './limits.js';

export type JobRefusalCode =
  | 'too-big' // the line is over the job record bound
  | 'not-json' // not JSON, or not an object
  | 'unknown-field' // a key §11.4 does not list
  | 'missing-field'
  | 'bad-id' // job id empty, too long, or not [A-Za-z0-9._-]
  | 'bad-kernel' // not vadd | matmul
  | 'bad-dims' // grid/block not [3×u32 ≥ 1], or a shape the kernel cannot run
  | 'over-size' // more elements than the CPU kernel bound
  | 'bad-hash' // bytes_hash not sha256:<64 lowercase hex>
  | 'bad-buffers' // inputs/outputs not arrays of short names
  | 'bad-timeout' // timeout_ms not an integer within bounds
  | 'bad-payload' // payload_b64 not base64, or the wrong size for the kernel
  | 'hash-mismatch'; // sha256(payload) ≠ bytes_hash

export class JobRefusal {
  constructor(
    readonly code: JobRefusalCode,
    readonly message: string,
    /** The job id when the line had a usable one (status lines name it). */
    readonly jobId: string | null,
  ) {}
}

export type Kernel = 'vadd' | 'matmul';
export type Dim3 = [number, number, number];

export interface Job {
  id: string;
  kernel: Kernel;
  grid: Dim3;
  block: Dim3;
  bytesHash: string;
  inputs: string[];
  outputs: string[];
  timeoutMs: number;
  payload: Uint8Array | null;
  /** vadd: element count; matmul: matrix side. */
  size: number;
  /** Bytes of device memory the job needs (inputs + output, float32), checked against the lease's mem_mb. */
  memoryBytes: number;
}

const FIELDS = ['job', 'kernel', 'grid', 'block', 'bytes_hash', 'inputs', 'outputs', 'timeout_ms', 'payload_b64'] as const;
const REQUIRED = FIELDS.filter((f) => f !== 'payload_b64');
const JOB_ID = /^[A-Za-z0-9._-]+$/;
const HASH = /^sha256:[0-9a-f]{64}$/;
const U32_MAX = 0xffffffff;
const FLOAT32_BYTES = 4;

function dim3(v: unknown): Dim3 | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  for (const x of v) if (!Number.isInteger(x) || x < 1 || x > U32_MAX) return null;
  return v as Dim3;
}

function names(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length > JOB_BUFFERS_MAX) return null;
  for (const x of v) if (typeof x !== 'string' || x === '' || utf8Length(x) > JOB_BUFFER_NAME_BYTES_MAX) return null;
  return v as string[];
}

/** The job id of a line, if it has a usable one, for refusals of otherwise broken lines. */
export function jobIdOf(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const id = (v as Record<string, unknown>).job;
  return typeof id === 'string' && id !== '' && utf8Length(id) <= JOB_ID_BYTES_MAX && JOB_ID.test(id) ? id : null;
}

export function parseJob(line: string): Job | JobRefusal {
  if (utf8Length(line) > GPU_JOB_RECORD_BYTES_MAX) return new JobRefusal('too-big', `job line over ${GPU_JOB_RECORD_BYTES_MAX} bytes`, null);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return new JobRefusal('not-json', 'job line is not JSON', null);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return new JobRefusal('not-json', 'job line is not a JSON object', null);
  const o = v as Record<string, unknown>;
  const id = jobIdOf(o);
  const no = (code: JobRefusalCode, message: string) => new JobRefusal(code, message, id);
  for (const k of Object.keys(o)) if (!(FIELDS as readonly string[]).includes(k)) return no('unknown-field', `unknown field ${k.slice(0, 32)}`);
  for (const k of REQUIRED) if (!(k in o)) return no('missing-field', `missing ${k}`);
  if (id === null) return no('bad-id', `job must be 1..${JOB_ID_BYTES_MAX} bytes of [A-Za-z0-9._-]`);
  if (o.kernel !== 'vadd' && o.kernel !== 'matmul') return no('bad-kernel', 'kernel must be vadd or matmul');
  const grid = dim3(o.grid);
  const block = dim3(o.block);
  if (grid === null || block === null) return no('bad-dims', 'grid and block must be [3 × u32 ≥ 1]');
  if (typeof o.bytes_hash !== 'string' || !HASH.test(o.bytes_hash)) return no('bad-hash', 'bytes_hash must be sha256:<64 lowercase hex>');
  const inputs = names(o.inputs);
  const outputs = names(o.outputs);
  if (inputs === null || outputs === null) return no('bad-buffers', `inputs/outputs must be arrays of ≤ ${JOB_BUFFERS_MAX} names`);
  const t = o.timeout_ms;
  if (!Number.isInteger(t) || (t as number) < JOB_TIMEOUT_MS_MIN || (t as number) > JOB_TIMEOUT_MS_MAX) {
    return no('bad-timeout', `timeout_ms must be ${JOB_TIMEOUT_MS_MIN}..${JOB_TIMEOUT_MS_MAX}`);
  }
  // Shapes: vadd runs one element per thread; matmul one output cell per (x, y) thread of a square.
  let size: number;
  let elements: number;
  if (o.kernel === 'vadd') {
    size = grid[0] * grid[1] * grid[2] * block[0] * block[1] * block[2];
    if (size > VADD_ELEMENTS_MAX) return no('over-size', `vadd of ${size} elements is over ${VADD_ELEMENTS_MAX}`);
    elements = 3 * size;
  } else {
    size = grid[0] * block[0];
    if (grid[1] * block[1] !== size || grid[2] * block[2] !== 1) return no('bad-dims', 'matmul needs a square x × y grid with z = 1');
    if (size > MATMUL_DIM_MAX) return no('over-size', `matmul side ${size} is over ${MATMUL_DIM_MAX}`);
    elements = 3 * size * size;
  }
  let payload: Uint8Array | null = null;
  if ('payload_b64' in o) {
    if (typeof o.payload_b64 !== 'string') return no('bad-payload', 'payload_b64 must be a string');
    payload = base64Decode(o.payload_b64);
    if (payload === null) return no('bad-payload', 'payload_b64 is not base64');
    const want = (elements / 3) * 2 * FLOAT32_BYTES;
    if (payload.length !== want) return no('bad-payload', `payload is ${payload.length} bytes; ${o.kernel} of this shape takes ${want} (two float32 inputs)`);
    if (`sha256:${toHex(sha256(payload))}` !== o.bytes_hash) return no('hash-mismatch', 'sha256 of payload_b64 does not match bytes_hash');
  }
  return {
    id, kernel: o.kernel, grid, block, bytesHash: o.bytes_hash, inputs, outputs, timeoutMs: t as number, payload,
    size, memoryBytes: elements * FLOAT32_BYTES,
  };
}
