// Queen telemetry ingest through 9P (spec §10.3): device creation by ctl, segment ids, latest, record/segment/device quotas, eviction.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { hive, refused, ticket, wrote, type Client } from './door.support.js';

const ctl = (q: Client, dev: string, line = '{"new":"segment","mime":"text/plain"}\n') => q.append(`/queen/telemetry/${dev}/ctl`, line);

test('ninedoor ingest: the first ctl line creates the device with ctl, seg/ and latest; each line allocates the next segment', () => {
  const q = hive().client();
  deepEqual(q.ls('/queen/telemetry'), []);
  refused(q.walk('/queen/telemetry/cam0/latest'), Errno.ENOENT, 'no latest before the first ctl line');
  wrote(ctl(q, 'cam0'), 38);
  deepEqual(q.ls('/queen/telemetry'), ['cam0']);
  deepEqual(q.ls('/queen/telemetry/cam0'), ['ctl', 'latest', 'seg']);
  deepEqual(q.ls('/queen/telemetry/cam0/seg'), ['seg-000001']);
  equal(q.cat('/queen/telemetry/cam0/latest'), 'seg-000001\n');
  wrote(ctl(q, 'cam0', '{"new":"segment"}\n\n{"new":"segment","mime":"application/json"}'), 62);
  deepEqual(q.ls('/queen/telemetry/cam0/seg'), ['seg-000001', 'seg-000002', 'seg-000003']);
  equal(q.cat('/queen/telemetry/cam0/latest'), 'seg-000003\n');
});

test('ninedoor ingest: bad ctl lines are EINVAL and a refused first line creates nothing', () => {
  const q = hive().client();
  for (const bad of ['{"new":"segment","extra":1}', '{"new":"seg"}', '{"mime":"text/plain"}', '{"new":"segment","mime":""}',
    '{"new":"segment","mime":"a\\nb"}', 'not json', '["new"]']) {
    refused(ctl(q, 'cam1', bad), Errno.EINVAL, bad);
  }
  deepEqual(q.ls('/queen/telemetry'), []);
  refused(ctl(q, 'cam1', '{"new":"segment"}\n{"new":"bogus"}'), Errno.EINVAL, 'second line');
  deepEqual(q.ls('/queen/telemetry/cam1/seg'), ['seg-000001'], 'earlier lines stay applied');
});

test('ninedoor ingest: segment writes are one record ≤ 4096 at end or u64 max, ≤ 32768 per segment; latest is read-only', () => {
  const q = hive().client();
  ctl(q, 'dev');
  const p = '/queen/telemetry/dev/seg/seg-000001';
  const fid = q.open(p, OpenFlag.WRONLY | OpenFlag.APPEND);
  ok(typeof fid === 'number');
  wrote(q.write(fid, 'r1\n', 0n), 3, 'offset 0 is the end of an empty segment');
  wrote(q.write(fid, 'r2\n', 0xffffffffffffffffn), 3);
  refused(q.write(fid, 'r3\n', 2n), Errno.EINVAL, 'not the end');
  refused(q.write(fid, new Uint8Array(4097)), Errno.EMSGSIZE, 'record over 4096');
  equal(q.cat(p), 'r1\nr2\n');
  for (let i = 0; i < 7; i++) wrote(q.write(fid, new Uint8Array(4096).fill(0x61), 0xffffffffffffffffn), 4096);
  refused(q.write(fid, new Uint8Array(4096).fill(0x61), 0xffffffffffffffffn), Errno.EMSGSIZE, 'segment quota');
  refused(q.open('/queen/telemetry/dev/latest', OpenFlag.WRONLY), Errno.EPERM, 'latest');
  refused(q.walk('/queen/telemetry/dev/seg/seg-000009'), Errno.ENOENT);
});

test('ninedoor ingest: a fifth segment evicts the oldest with an audit line; writes to the evicted one are ENOENT', () => {
  const h = hive();
  const q = h.client();
  ctl(q, 'dev');
  const old = q.open('/queen/telemetry/dev/seg/seg-000001', OpenFlag.WRONLY);
  ok(typeof old === 'number');
  wrote(q.write(old, 'x', 0xffffffffffffffffn), 1);
  for (let i = 0; i < 4; i++) ctl(q, 'dev');
  deepEqual(q.ls('/queen/telemetry/dev/seg'), ['seg-000002', 'seg-000003', 'seg-000004', 'seg-000005']);
  equal(h.sink.at(-1), '[audit] telemetry ingest evicted device=dev seg=seg-000001 bytes=1');
  refused(q.write(old, 'y', 0xffffffffffffffffn), Errno.ENOENT, 'evicted');
  refused(q.walk('/queen/telemetry/dev/seg/seg-000001'), Errno.ENOENT);
});

test('ninedoor ingest: a full device (4 × 32768 = 131072 bytes) takes a fifth segment by evicting the oldest, and the new one fills', () => {
  const q = hive().client();
  const big = new Uint8Array(4096).fill(0x62);
  for (let s = 1; s <= 4; s++) {
    ctl(q, 'dev');
    const fid = q.open(`/queen/telemetry/dev/seg/seg-00000${s}`, OpenFlag.WRONLY);
    ok(typeof fid === 'number');
    for (let i = 0; i < 8; i++) wrote(q.write(fid, big, 0xffffffffffffffffn), 4096, `seg ${s} record ${i}`);
  }
  // 4 × 32768 = 131072: full on both quotas. The next segment evicts seg-000001, which frees room for a whole segment.
  ctl(q, 'dev');
  const fid = q.open('/queen/telemetry/dev/seg/seg-000005', OpenFlag.WRONLY);
  ok(typeof fid === 'number');
  for (let i = 0; i < 9; i++) {
    const r = q.write(fid, big, 0xffffffffffffffffn);
    if (i < 8) wrote(r, 4096, `record ${i}`);
    else refused(r, Errno.EMSGSIZE, 'the segment itself is full');
  }
  deepEqual(q.ls('/queen/telemetry/dev/seg'), ['seg-000002', 'seg-000003', 'seg-000004', 'seg-000005']);
});

test('ninedoor ingest: the refuse policy answers EMSGSIZE instead of evicting', () => {
  const q = hive({ ingestEvict: 'refuse' }).client();
  for (let i = 0; i < 4; i++) wrote(ctl(q, 'dev'), 38);
  refused(ctl(q, 'dev'), Errno.EMSGSIZE);
  deepEqual(q.ls('/queen/telemetry/dev/seg'), ['seg-000001', 'seg-000002', 'seg-000003', 'seg-000004']);
});

test('ninedoor ingest: a closed telemetry-ingest gate refuses ctl and segment writes with the gate line', () => {
  const h = hive();
  const q = h.client();
  ctl(q, 'dev');
  h.door.state.setLifecycle({ state: 'OFFLINE', reason: 'x', sinceMs: 0 });
  refused(ctl(q, 'dev'), Errno.EPERM, 'ctl');
  equal(h.sink.at(-1), 'lifecycle denied action=telemetry-ingest state=OFFLINE reason=gate-denied');
  refused(q.append('/queen/telemetry/dev/seg/seg-000001', 'x'), Errno.EPERM, 'segment');
  deepEqual(q.ls('/queen/telemetry/dev/seg'), ['seg-000001']);
});

test('ninedoor ingest: a worker cannot reach /queen/telemetry', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  refused(w.walk('/queen/telemetry/dev/ctl'), Errno.EPERM);
});
