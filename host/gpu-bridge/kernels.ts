// The CPU stand-ins for vadd and matmul: run as a GPU would (grid × block threads), then check the result independently.
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../../js/bytes/utf8.js';
import type { Job } from './job.js';
import { MATMUL_CHECK_TOLERANCE, RESULT_HEX_CHARS } from './limits.js';

export type KernelOutcome = { ok: true; result: string } | { ok: false; detail: 'check-failed' };

/** A small deterministic generator (xorshift32) seeded from bytes_hash, for jobs that send no payload. */
function generator(bytesHash: string): () => number {
  const seed = fromHex(bytesHash.slice('sha256:'.length, 'sha256:'.length + 8)) as Uint8Array;
  let s = ((seed[0] << 24) | (seed[1] << 16) | (seed[2] << 8) | seed[3]) >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    // Small integers in [-8, 8): float32 sums and products of them stay exact enough to compare.
    return (s % 16) - 8;
  };
}

/** The two float32 inputs of `count` elements each: from payload_b64 (little-endian) or generated. */
export function jobInputs(job: Job, count: number): [Float32Array, Float32Array] {
  const a = new Float32Array(count);
  const b = new Float32Array(count);
  if (job.payload !== null) {
    const v = new DataView(job.payload.buffer, job.payload.byteOffset, job.payload.byteLength);
    for (let i = 0; i < count; i++) {
      a[i] = v.getFloat32(i * 4, true);
      b[i] = v.getFloat32((count + i) * 4, true);
    }
  } else {
    const next = generator(job.bytesHash);
    for (let i = 0; i < count; i++) a[i] = next();
    for (let i = 0; i < count; i++) b[i] = next();
  }
  return [a, b];
}

function digest(out: Float32Array): string {
  const bytes = new Uint8Array(out.length * 4);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < out.length; i++) v.setFloat32(i * 4, out[i], true);
  return toHex(sha256(bytes)).slice(0, RESULT_HEX_CHARS);
}

/** vadd as a kernel launch: thread (block, thread) handles element blockIdx·blockDim + threadIdx. */
export function vaddKernel(job: Job, a: Float32Array, b: Float32Array): Float32Array {
  const [gx, gy, gz] = job.grid;
  const [bx, by, bz] = job.block;
  const threadsPerBlock = bx * by * bz;
  const c = new Float32Array(a.length).fill(Number.NaN);
  for (let z = 0; z < gz; z++) for (let y = 0; y < gy; y++) for (let x = 0; x < gx; x++) {
    const blockIdx = (z * gy + y) * gx + x;
    for (let tz = 0; tz < bz; tz++) for (let ty = 0; ty < by; ty++) for (let tx = 0; tx < bx; tx++) {
      const i = blockIdx * threadsPerBlock + (tz * by + ty) * bx + tx;
      if (i < c.length) c[i] = a[i] + b[i];
    }
  }
  return c;
}

/** matmul as a kernel launch: thread (x, y) of the square computes C[y][x] with a float32 accumulator. */
export function matmulKernel(job: Job, a: Float32Array, b: Float32Array): Float32Array {
  const n = job.size;
  const c = new Float32Array(n * n).fill(Number.NaN);
  for (let gy = 0; gy < job.grid[1]; gy++) for (let gx = 0; gx < job.grid[0]; gx++) {
    for (let ty = 0; ty < job.block[1]; ty++) for (let tx = 0; tx < job.block[0]; tx++) {
      const row = gy * job.block[1] + ty;
      const col = gx * job.block[0] + tx;
      let acc = 0;
      for (let k = 0; k < n; k++) acc = Math.fround(acc + Math.fround(a[row * n + k] * b[k * n + col]));
      c[row * n + col] = acc;
    }
  }
  return c;
}

/** vadd check: every element written and equal to the plain loop's float32 sum. */
export function checkVadd(a: Float32Array, b: Float32Array, c: Float32Array): boolean {
  for (let i = 0; i < c.length; i++) if (c[i] !== Math.fround(a[i] + b[i])) return false;
  return true;
}

/** matmul check: Freivalds — C·r against A·(B·r) for a ±1 vector r, in float64, within a relative tolerance. */
export function checkMatmul(n: number, a: Float32Array, b: Float32Array, c: Float32Array): boolean {
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = (i * 2654435761) % 3 === 0 ? -1 : 1;
  const br = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) br[i] += b[i * n + k] * r[k];
  for (let i = 0; i < n; i++) {
    let abr = 0;
    let cr = 0;
    let scale = 1;
    for (let k = 0; k < n; k++) {
      abr += a[i * n + k] * br[k];
      cr += c[i * n + k] * r[k];
      scale += Math.abs(c[i * n + k]);
    }
    if (!Number.isFinite(cr) || Math.abs(abr - cr) > MATMUL_CHECK_TOLERANCE * scale) return false;
  }
  return true;
}

/** Runs the job's kernel and its check; `kernel` can be swapped (tests give a broken one to see the check fail). */
export function runJob(job: Job, kernel: (job: Job, a: Float32Array, b: Float32Array) => Float32Array = job.kernel === 'vadd' ? vaddKernel : matmulKernel): KernelOutcome {
  const count = job.kernel === 'vadd' ? job.size : job.size * job.size;
  const [a, b] = jobInputs(job, count);
  const c = kernel(job, a, b);
  const good = job.kernel === 'vadd' ? checkVadd(a, b, c) : checkMatmul(job.size, a, b, c);
  return good ? { ok: true, result: digest(c) } : { ok: false, detail: 'check-failed' };
}
