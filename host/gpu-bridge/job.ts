// Validates one /gpu/<id>/job line (spec §11.4) strictly, and sizes it for the CPU kernels; refusals carry a stable code.
import { utf8Length } from '../../js/bytes/utf8.js';
import { checkJobDescriptor, JobDescriptorRefusal, type JobDescriptorCode } from '../../js/ninedoor/gpu-job.js';
import {
  GPU_JOB_RECORD_BYTES_MAX, JOB_BUFFER_NAME_BYTES_MAX, JOB_BUFFERS_MAX, JOB_ID_BYTES_MAX, JOB_TIMEOUT_MS_MAX, JOB_TIMEOUT_MS_MIN,
  MATMUL_DIM_MAX, VADD_ELEMENTS_MAX,
} from './limits.js';

/** The §11.4 descriptor's codes (js/ninedoor/gpu-job.ts, NineDoor refuses those lines already), and the bridge's own bounds. */
export type JobRefusalCode =
  | JobDescriptorCode
  | 'too-big' // the line is over the job record bound
  | 'over-size'; // more elements than the CPU kernel bound
// Our own bounds reuse descriptor codes: bad-id (1..32 bytes of [A-Za-z0-9._-], so status lines fit
// an ECHO), bad-dims (≥ 1, a shape the kernel can run), bad-buffers (≤ 8 names of ≤ 64 bytes),
// bad-timeout (1..60000 ms).

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
  /** The kernel's two float32 inputs: payload_b64 when it is exactly their size, else null (generated from bytes_hash). */
  payload: Uint8Array | null;
  /** vadd: element count; matmul: matrix side. */
  size: number;
  /** Bytes of device memory the job needs (inputs + output, float32), checked against the lease's mem_mb. */
  memoryBytes: number;
}

const JOB_ID = /^[A-Za-z0-9._-]+$/;
const FLOAT32_BYTES = 4;

/** A launch dimension the CPU kernels can run: the descriptor has [3 × u32] already; none may be 0. */
function dim3(v: unknown): Dim3 | null {
  return (v as number[]).every((x) => x >= 1) ? (v as Dim3) : null;
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
  const d = checkJobDescriptor(line);
  if (d instanceof JobDescriptorRefusal) {
    let id: string | null = null;
    try {
      id = jobIdOf(JSON.parse(line));
    } catch {
      // not JSON: no id to name
    }
    return new JobRefusal(d.code, d.message, id);
  }
  const o = d.fields;
  const id = jobIdOf(o);
  const no = (code: JobRefusalCode, message: string) => new JobRefusal(code, message, id);
  if (id === null) return no('bad-id', `job must be 1..${JOB_ID_BYTES_MAX} bytes of [A-Za-z0-9._-]`);
  const kernel = o.kernel as Kernel;
  const grid = dim3(o.grid);
  const block = dim3(o.block);
  if (grid === null || block === null) return no('bad-dims', 'grid and block must be [3 × u32 ≥ 1]');
  const inputs = names(o.inputs);
  const outputs = names(o.outputs);
  if (inputs === null || outputs === null) return no('bad-buffers', `inputs/outputs must be arrays of ≤ ${JOB_BUFFERS_MAX} names`);
  const t = o.timeout_ms as number;
  if (t < JOB_TIMEOUT_MS_MIN || t > JOB_TIMEOUT_MS_MAX) return no('bad-timeout', `timeout_ms must be ${JOB_TIMEOUT_MS_MIN}..${JOB_TIMEOUT_MS_MAX}`);
  // Shapes: vadd runs one element per thread; matmul one output cell per (x, y) thread of a square.
  let size: number;
  let elements: number;
  if (kernel === 'vadd') {
    size = grid[0] * grid[1] * grid[2] * block[0] * block[1] * block[2];
    if (size > VADD_ELEMENTS_MAX) return no('over-size', `vadd of ${size} elements is over ${VADD_ELEMENTS_MAX}`);
    elements = 3 * size;
  } else {
    size = grid[0] * block[0];
    if (grid[1] * block[1] !== size || grid[2] * block[2] !== 1) return no('bad-dims', 'matmul needs a square x × y grid with z = 1');
    if (size > MATMUL_DIM_MAX) return no('over-size', `matmul side ${size} is over ${MATMUL_DIM_MAX}`);
    elements = 3 * size * size;
  }
  // §11.4 sets no size for payload_b64 (its hash is checked above). One that is exactly the two
  // float32 inputs is used as them; any other is opaque, and the inputs are generated from
  // bytes_hash (its hash) as for a job with none.
  const inputsBytes = (elements / 3) * 2 * FLOAT32_BYTES;
  const payload = d.payload !== null && d.payload.length === inputsBytes ? d.payload : null;
  return {
    id, kernel, grid, block, bytesHash: o.bytes_hash as string, inputs, outputs, timeoutMs: t, payload,
    size, memoryBytes: elements * FLOAT32_BYTES,
  };
}
