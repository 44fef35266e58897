// Job lines (spec §11.4): strict validation with a code per refusal, and the CPU kernels with their independent result checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Encode } from '../../js/bytes/base64.js';
import { toHex } from '../../js/bytes/utf8.js';
import { JobRefusal, parseJob, type Job } from './job.js';
import { matmulKernel, runJob, vaddKernel } from './kernels.js';

const HASH = `sha256:${'ab'.repeat(32)}`;
function jobLine(o: Record<string, unknown> = {}): string {
  return JSON.stringify({ job: 'j1', kernel: 'vadd', grid: [4, 1, 1], block: [16, 1, 1], bytes_hash: HASH, inputs: ['a', 'b'], outputs: ['c'], timeout_ms: 1000, ...o });
}

function job(o: Record<string, unknown> = {}): Job {
  const j = parseJob(jobLine(o));
  assert.ok(!(j instanceof JobRefusal), j instanceof JobRefusal ? `${j.code}: ${j.message}` : '');
  return j;
}

function refused(line: string, code: string, id: string | null = 'j1'): void {
  const j = parseJob(line);
  assert.ok(j instanceof JobRefusal, `expected ${code} for ${line.slice(0, 80)}`);
  assert.equal(j.code, code, j.message);
  assert.equal(j.jobId, id);
}

function f32(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return b;
}

test('job: a valid vadd and matmul are sized (elements, memory) from grid × block', () => {
  const v = job();
  assert.deepEqual([v.kernel, v.size, v.memoryBytes, v.payload], ['vadd', 64, 64 * 3 * 4, null]);
  const m = job({ kernel: 'matmul', grid: [2, 2, 1], block: [4, 4, 1] });
  assert.deepEqual([m.size, m.memoryBytes], [8, 3 * 64 * 4]);
});

test('job refusals, one per code', () => {
  refused('not json', 'not-json', null);
  refused('[1,2]', 'not-json', null);
  refused(jobLine({ extra: 1 }), 'unknown-field');
  refused(JSON.stringify({ job: 'j1', kernel: 'vadd' }), 'missing-field');
  refused(jobLine({ job: 'has space' }), 'bad-id', null);
  refused(jobLine({ job: 'x'.repeat(33) }), 'bad-id', null);
  refused(jobLine({ kernel: 'conv' }), 'bad-kernel');
  refused(jobLine({ grid: [1, 1] }), 'bad-dims');
  refused(jobLine({ block: [0, 1, 1] }), 'bad-dims');
  refused(jobLine({ kernel: 'matmul', grid: [2, 1, 1], block: [4, 4, 1] }), 'bad-dims');
  refused(jobLine({ grid: [1024, 1, 1], block: [128, 1, 1] }), 'over-size');
  refused(jobLine({ kernel: 'matmul', grid: [16, 16, 1], block: [8, 8, 1] }), 'over-size');
  refused(jobLine({ bytes_hash: 'sha256:XYZ' }), 'bad-hash');
  refused(jobLine({ inputs: 'a' }), 'bad-buffers');
  refused(jobLine({ timeout_ms: 0 }), 'bad-timeout');
  refused(jobLine({ timeout_ms: 1.5 }), 'bad-timeout');
  refused(jobLine({ payload_b64: '!!!!' }), 'bad-payload');
  refused(jobLine({ payload_b64: base64Encode(f32([1, 2])) }), 'hash-mismatch');
  refused(jobLine({ bytes_hash: 'md5:00' }), 'bad-hash');
  refused(jobLine({ job: 'j1', bytes_hash: 'x'.repeat(5000) }), 'too-big', null);
});

test('job payload: its sha256 must equal bytes_hash', () => {
  const data = f32(Array.from({ length: 128 }, (_, i) => i));
  const good = `sha256:${toHex(sha256(data))}`;
  assert.ok(!(parseJob(jobLine({ payload_b64: base64Encode(data), bytes_hash: good })) instanceof JobRefusal));
  refused(jobLine({ payload_b64: base64Encode(data), bytes_hash: HASH }), 'hash-mismatch');
});

test('job bug: a valid job with a 3-byte payload was refused invalid:bad-payload; §11.4 sets no size, so it runs on inputs generated from bytes_hash', () => {
  const three = new Uint8Array([1, 2, 3]);
  const hash = `sha256:${toHex(sha256(three))}`;
  const j = job({ payload_b64: base64Encode(three), bytes_hash: hash });
  assert.equal(j.payload, null, 'not the kernel inputs: opaque');
  const r = runJob(j);
  assert.ok(r.ok, 'it runs');
  // The same job without the payload: the same generated inputs, the same result.
  assert.deepEqual(r, runJob(job({ bytes_hash: hash })));
});

test('kernels: vadd of a payload is the element sum; the result digest is stable', () => {
  const a = Array.from({ length: 64 }, (_, i) => i);
  const b = Array.from({ length: 64 }, (_, i) => 1000 - i);
  const data = f32([...a, ...b]);
  const j = job({ payload_b64: base64Encode(data), bytes_hash: `sha256:${toHex(sha256(data))}` });
  const r = runJob(j);
  assert.ok(r.ok);
  const expected = toHex(sha256(f32(a.map(() => 1000)))).slice(0, 16);
  assert.equal(r.ok && r.result, expected);
});

test('kernels: matmul against identity returns the other matrix; generated inputs pass the Freivalds check', () => {
  const n = 4;
  const id = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  const m = Array.from({ length: n * n }, (_, i) => i - 3);
  const data = f32([...m, ...id]);
  const j = job({ kernel: 'matmul', grid: [1, 1, 1], block: [4, 4, 1], payload_b64: base64Encode(data), bytes_hash: `sha256:${toHex(sha256(data))}` });
  const r = runJob(j);
  assert.ok(r.ok);
  assert.equal(r.ok && r.result, toHex(sha256(f32(m))).slice(0, 16));
  assert.ok(runJob(job({ kernel: 'matmul', grid: [4, 4, 1], block: [8, 8, 1] })).ok, '32×32 generated');
});

test('kernels refusal: a kernel that skips a thread or miscomputes fails its check', () => {
  const v = job();
  const skip = (j: Job, a: Float32Array, b: Float32Array) => {
    const c = vaddKernel(j, a, b);
    c[c.length - 1] = Number.NaN;
    return c;
  };
  assert.deepEqual(runJob(v, skip), { ok: false, detail: 'check-failed' });
  const m = job({ kernel: 'matmul', grid: [2, 2, 1], block: [4, 4, 1] });
  const off = (j: Job, a: Float32Array, b: Float32Array) => {
    const c = matmulKernel(j, a, b);
    c[5] += 1;
    return c;
  };
  assert.deepEqual(runJob(m, off), { ok: false, detail: 'check-failed' });
});
