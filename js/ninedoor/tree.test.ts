// The spec §6 tree as the queen sees it over 9P: listings, /proc content, getattr modes and sizes, qid bits, the log and control hand-off.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { allShardLabels } from './shard.js';
import { hive, refused, wrote } from './door.support.js';

test('ninedoor tree: the queen lists / as spec §6 says, and all 256 shard dirs exist at boot', () => {
  const q = hive().client();
  equal(q.attachReply.kind, 'Rattach');
  deepEqual(q.ls('/'), ['gpu', 'kmesg', 'log', 'proc', 'queen', 'shard', 'trace', 'worker']);
  deepEqual(q.ls('/shard'), allShardLabels());
  deepEqual(q.ls('/shard/13'), ['worker']);
  deepEqual(q.ls('/proc'), ['9p', 'boot', 'lifecycle', 'pressure', 'root', 'tests']);
  deepEqual(q.ls('/queen'), ['ctl', 'lifecycle', 'telemetry']);
  deepEqual(q.ls('/gpu'), ['GPU-0', 'GPU-1', 'bridge']);
});

test('ninedoor tree: /proc/boot opens with the boot line; boot lines follow', () => {
  const h = hive({ bootLines: ['[boot] manifest ok'] });
  equal(h.client().cat('/proc/boot'), 'Cohesix boot: root-task online\n[boot] manifest ok\n');
});

test('ninedoor tree: /proc lifecycle, root, pressure and session files show what root-task pushed', () => {
  const h = hive();
  const q = h.client();
  h.door.state.setLifecycle({ state: 'DRAINING', reason: 'cordon', sinceMs: 42 });
  h.door.state.setRoot({ reachable: true, lastSeenMs: 7, cutReason: 'none' });
  h.door.state.setPressure({ busy: 1, quota: 2, cut: 3, policy: 4 });
  equal(q.cat('/proc/lifecycle/state'), 'state=DRAINING\n');
  equal(q.cat('/proc/lifecycle/reason'), 'reason=cordon\n');
  equal(q.cat('/proc/lifecycle/since'), 'since_ms=42\n');
  equal(q.cat('/proc/root/reachable'), 'reachable=yes\n');
  equal(q.cat('/proc/root/last_seen_ms'), 'last_seen_ms=7\n');
  equal(q.cat('/proc/root/cut_reason'), 'cut_reason=none\n');
  deepEqual(['busy', 'quota', 'cut', 'policy'].map((k) => q.cat(`/proc/pressure/${k}`)), ['busy=1\n', 'quota=2\n', 'cut=3\n', 'policy=4\n']);
  equal(q.cat('/proc/9p/session/active'), 'active=1 draining=0\n');
  const q2 = h.client();
  equal(q2.cat('/proc/9p/session/active'), 'active=2 draining=0\n');
  h.door.endSession(q2.ns);
  equal(q.cat('/proc/9p/session/active'), 'active=1 draining=0\n', 'an ended session stops counting');
});

test('ninedoor getattr: dirs 0555, read-only 0444, append-only 0644 with qid 0x40, sizes = readable bytes', () => {
  const h = hive();
  const q = h.client();
  const root = q.getattr('/');
  ok(root.kind === 'Rgetattr' && root.mode === 0o040555 && root.qid.type === 0x80);
  const boot = q.getattr('/proc/boot');
  ok(boot.kind === 'Rgetattr' && boot.mode === 0o100444 && boot.qid.type === 0 && boot.size === 31n, JSON.stringify(boot.kind));
  const gen = q.getattr('/proc/lifecycle/state');
  ok(gen.kind === 'Rgetattr' && gen.size === BigInt('state=ONLINE\n'.length), 'generated files report their rendered size');
  h.door.log('hello');
  const log = q.getattr('/log/queen.log');
  ok(log.kind === 'Rgetattr' && log.mode === 0o100644 && log.qid.type === 0x40 && log.size === 6n);
  for (const p of ['/queen/ctl', '/queen/lifecycle/ctl', '/gpu/bridge/ctl', '/gpu/GPU-0/job']) {
    const a = q.getattr(p);
    ok(a.kind === 'Rgetattr' && a.qid.type === 0x40, `${p} carries the append bit`);
  }
});

test('ninedoor tree: write-open of a read-only or generated node is refused with EPERM', () => {
  const q = hive().client();
  refused(q.open('/proc/boot', OpenFlag.WRONLY), Errno.EPERM, 'boot');
  refused(q.open('/proc/lifecycle/state', OpenFlag.RDWR), Errno.EPERM, 'state');
  refused(q.open('/proc', OpenFlag.WRONLY), Errno.EPERM, 'dir');
  refused(q.walk('/proc/nope'), Errno.ENOENT, 'absent');
});

test('ninedoor log: the queen appends to /log/queen.log, lines are kept and mirrored to the sink', () => {
  const h = hive();
  const q = h.client();
  h.door.log('spawned worker-1 ticks=10 ttl=300 ops=10000');
  wrote(q.append('/log/queen.log', 'operator note'), 13);
  equal(q.cat('/log/queen.log'), 'spawned worker-1 ticks=10 ttl=300 ops=10000\noperator note\n');
  deepEqual(h.sink, ['spawned worker-1 ticks=10 ttl=300 ops=10000', 'operator note']);
  deepEqual(h.door.logLines(), ['spawned worker-1 ticks=10 ttl=300 ops=10000', 'operator note']);
});

test('ninedoor control: /queen/ctl and /queen/lifecycle/ctl writes reach the policy with the writer; refusals come back', async () => {
  const h = hive();
  const q = h.client();
  wrote(q.append('/queen/ctl', '{"mount":{"service":"logs","at":"/queen/logs"}}\n'), 48);
  equal(h.policy.queen.length, 1);
  refused(q.append('/queen/ctl', '{"bogus":1}'), Errno.EINVAL, 'policy refusal');
  equal(q.cat('/queen/ctl'), '{"mount":{"service":"logs","at":"/queen/logs"}}\n{"bogus":1}', 'raw writes are kept, refused ones too');
  const fid = q.open('/queen/lifecycle/ctl', OpenFlag.WRONLY);
  ok(typeof fid === 'number');
  const r = await q.oneLater({ kind: 'Twrite', tag: 99, fid, offset: 0n, data: new TextEncoderShim('cordon').bytes });
  ok(r.kind === 'Rwrite' && r.count === 6, 'an async policy answer still completes the write');
  deepEqual(h.policy.lifecycle, ['cordon']);
});

/** Bytes of an ASCII string without TextEncoder (js/ may not use it). */
class TextEncoderShim {
  readonly bytes: Uint8Array;
  constructor(s: string) {
    this.bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  }
}
