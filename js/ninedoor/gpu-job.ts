// The §11.4 job descriptor check: fields, their types, the bytes_hash format and the payload's SHA-256; NineDoor and gpu-bridge-host share it.
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode } from '../bytes/base64.js';
import { toHex } from '../bytes/utf8.js';

/** Why a job line is not a §11.4 descriptor; the same code in NineDoor's Invalid and the bridge's `invalid:<code>`. */
export type JobDescriptorCode =
  | 'not-json' // not JSON, or not an object
  | 'unknown-field' // a key §11.4 does not list
  | 'missing-field'
  | 'bad-id' // job not a non-empty string
  | 'bad-kernel' // not vadd | matmul
  | 'bad-dims' // grid/block not [3 × u32]
  | 'bad-hash' // bytes_hash not sha256:<64 lowercase hex>
  | 'bad-buffers' // inputs/outputs not arrays of strings
  | 'bad-timeout' // timeout_ms not a u32
  | 'bad-payload' // payload_b64 not a string of standard padded base64
  | 'hash-mismatch'; // sha256(payload) ≠ bytes_hash

export class JobDescriptorRefusal {
  constructor(
    readonly code: JobDescriptorCode,
    readonly message: string,
  ) {}
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** A line that passed: the object, and the decoded payload when it had one. */
export interface JobDescriptor {
  fields: Record<string, unknown>;
  payload: Uint8Array | null;
}

export const JOB_FIELDS = ['job', 'kernel', 'grid', 'block', 'bytes_hash', 'inputs', 'outputs', 'timeout_ms', 'payload_b64'] as const;
const REQUIRED = JOB_FIELDS.filter((f) => f !== 'payload_b64');
/** `sha256:` and 64 hex digits, lowercase: the one spelling our own hashes (toHex) have. */
export const JOB_HASH = /^sha256:[0-9a-f]{64}$/;
const U32_MAX = 0xffffffff;

const u32 = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= U32_MAX;
const dim3 = (v: unknown): boolean => Array.isArray(v) && v.length === 3 && v.every(u32);
const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Checks one job line against §11.4. Bounds of our own (id charset, shapes a kernel can run) are the bridge's, not this. */
export function checkJobDescriptor(line: string): JobDescriptor | JobDescriptorRefusal {
  const no = (code: JobDescriptorCode, message: string) => new JobDescriptorRefusal(code, message);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return no('not-json', 'job line is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return no('not-json', 'job line is not a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(JOB_FIELDS as readonly string[]).includes(k)) return no('unknown-field', `unknown field ${k.slice(0, 32)}`);
  for (const k of REQUIRED) if (!(k in o)) return no('missing-field', `missing ${k}`);
  if (typeof o.job !== 'string' || o.job === '') return no('bad-id', 'job must be a non-empty string');
  if (o.kernel !== 'vadd' && o.kernel !== 'matmul') return no('bad-kernel', 'kernel must be vadd or matmul');
  if (!dim3(o.grid) || !dim3(o.block)) return no('bad-dims', 'grid and block must be [3 × u32]');
  if (typeof o.bytes_hash !== 'string' || !JOB_HASH.test(o.bytes_hash)) return no('bad-hash', 'bytes_hash must be sha256:<64 lowercase hex>');
  if (!strings(o.inputs) || !strings(o.outputs)) return no('bad-buffers', 'inputs and outputs must be arrays of names');
  if (!u32(o.timeout_ms)) return no('bad-timeout', 'timeout_ms must be a u32');
  let payload: Uint8Array | null = null;
  if ('payload_b64' in o) {
    if (typeof o.payload_b64 !== 'string') return no('bad-payload', 'payload_b64 must be a string');
    payload = base64Decode(o.payload_b64);
    if (payload === null) return no('bad-payload', 'payload_b64 is not base64');
    if (`sha256:${toHex(sha256(payload))}` !== o.bytes_hash) return no('hash-mismatch', 'sha256 of payload_b64 does not match bytes_hash');
  }
  return { fields: o, payload };
}
