// /gpu/<id>/job descriptors are checked on write (spec §11.4): a malformed bytes_hash or one that does not match payload_b64 is Invalid, nothing kept.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Encode } from '../bytes/base64.js';
import { toHex } from '../bytes/utf8.js';
import { Errno } from '../secure9p/errors.js';
import { hive, jobLine, refused, ticket, wrote, type Hive } from './door.support.js';
import { checkJobDescriptor, JobDescriptorRefusal } from './gpu-job.js';

function holder(): { h: Hive; g: ReturnType<Hive['client']> } {
  const h = hive();
  equal(h.door.addWorker('worker-3', 'gpu'), null);
  equal(h.door.setLease('GPU-0', 'worker-3'), null);
  const g = h.client('', ticket({ role: 'worker-gpu', subject: 'worker-3' }));
  equal(g.attachReply.kind, 'Rattach');
  return { h, g };
}

const hashOf = (b: Uint8Array) => `sha256:${toHex(sha256(b))}`;

test('ninedoor gpu job bug: a bytes_hash of md5:00 was accepted; it is Invalid and nothing is kept', () => {
  const { h, g } = holder();
  refused(g.append('/gpu/GPU-0/job', jobLine('j1', { bytes_hash: 'md5:00' }) + '\n'), Errno.EINVAL, 'md5:00');
  refused(g.append('/gpu/GPU-0/job', jobLine('j2', { bytes_hash: `sha256:${'cd'.repeat(31)}` }) + '\n'), Errno.EINVAL, '62 hex');
  refused(g.append('/gpu/GPU-0/job', jobLine('j3', { bytes_hash: `sha256:${'CD'.repeat(32)}` }) + '\n'), Errno.EINVAL, 'upper case');
  equal(g.cat('/gpu/GPU-0/job'), '');
  deepEqual(h.policy.gpuLines, [], 'the bridge is never told');
});

test('ninedoor gpu job bug: a bytes_hash that does not match payload_b64 was accepted; it is Invalid and nothing is kept', () => {
  const { h, g } = holder();
  const payload = new Uint8Array([1, 2, 3]);
  refused(g.append('/gpu/GPU-0/job', jobLine('j1', { payload_b64: base64Encode(payload) }) + '\n'), Errno.EINVAL, 'mismatch');
  refused(g.append('/gpu/GPU-0/job', jobLine('j2', { payload_b64: 'AQID!', bytes_hash: hashOf(payload) }) + '\n'), Errno.EINVAL, 'not base64');
  // One bad line refuses the whole write: nothing before it is kept either.
  refused(g.append('/gpu/GPU-0/job', `${jobLine('ok')}\n${jobLine('bad', { bytes_hash: 'md5:00' })}\n`), Errno.EINVAL, 'second line');
  equal(g.cat('/gpu/GPU-0/job'), '');
  deepEqual(h.policy.gpuLines, []);
});

test('ninedoor gpu job: a valid job is kept, with or without a payload of any size whose hash matches', () => {
  const { h, g } = holder();
  const three = new Uint8Array([1, 2, 3]);
  const lines = [jobLine('j1'), jobLine('j2', { payload_b64: base64Encode(three), bytes_hash: hashOf(three) })].join('\n') + '\n';
  wrote(g.append('/gpu/GPU-0/job', lines), lines.length);
  equal(g.cat('/gpu/GPU-0/job'), lines);
  deepEqual(h.policy.gpuLines, [`GPU-0 job ${lines}`]);
});

test('gpu-job checkJobDescriptor: each §11.4 rule has its code', () => {
  const code = (line: string) => {
    const r = checkJobDescriptor(line);
    return r instanceof JobDescriptorRefusal ? r.code : 'ok';
  };
  const cases: [string, string][] = [
    [jobLine('j'), 'ok'],
    ['not json', 'not-json'],
    ['[1]', 'not-json'],
    [jobLine('j', { extra: 1 }), 'unknown-field'],
    [JSON.stringify({ job: 'j' }), 'missing-field'],
    [jobLine(''), 'bad-id'],
    [jobLine('j', { job: 7 }), 'bad-id'],
    [jobLine('j', { kernel: 'conv' }), 'bad-kernel'],
    [jobLine('j', { grid: [1, 1] }), 'bad-dims'],
    [jobLine('j', { block: [1, 1, -1] }), 'bad-dims'],
    [jobLine('j', { grid: [1, 1, 2 ** 32] }), 'bad-dims'],
    [jobLine('j', { bytes_hash: 'md5:00' }), 'bad-hash'],
    [jobLine('j', { bytes_hash: 'sha256:' }), 'bad-hash'],
    [jobLine('j', { inputs: 'a' }), 'bad-buffers'],
    [jobLine('j', { outputs: [1] }), 'bad-buffers'],
    [jobLine('j', { timeout_ms: 1.5 }), 'bad-timeout'],
    [jobLine('j', { timeout_ms: -1 }), 'bad-timeout'],
    [jobLine('j', { payload_b64: 5 }), 'bad-payload'],
    [jobLine('j', { payload_b64: 'AA' }), 'bad-payload'],
    [jobLine('j', { payload_b64: 'AAAA' }), 'hash-mismatch'],
    [jobLine('j', { payload_b64: '', bytes_hash: hashOf(new Uint8Array(0)) }), 'ok'],
  ];
  for (const [line, want] of cases) equal(code(line), want, line);
  const r = checkJobDescriptor(jobLine('j', { payload_b64: 'AQID', bytes_hash: hashOf(new Uint8Array([1, 2, 3])) }));
  ok(!(r instanceof JobDescriptorRefusal) && r.payload !== null && r.payload.length === 3, 'the decoded payload comes back');
});
