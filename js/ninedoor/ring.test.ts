// Telemetry ring rules of spec §10.1: offsets, TooBig with audit line, wrap with audit line, stale and rewind refusals.
import { test, equal, ok } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import { OFFSET_AT_END } from '../secure9p/limits.js';
import { RingCursor, TelemetryRing } from './ring.js';

function ring(): { r: TelemetryRing; logs: string[] } {
  const logs: string[] = [];
  return { r: new TelemetryRing((l) => logs.push(l)), logs };
}
const text = (b: Uint8Array | NineError) => (b instanceof NineError ? `ERR ${b.message}` : utf8Decode(b));

test('ring: appends at end (u64 max) or at next; records are newline-terminated', () => {
  const { r } = ring();
  equal(r.append(OFFSET_AT_END, utf8Encode('{"tick":1}')), 10);
  equal(r.next(), 11);
  equal(r.append(11n, utf8Encode('{"tick":2}\n')), 11);
  equal(text(r.read(0n, 100)), '{"tick":1}\n{"tick":2}\n');
});

test('ring: a write offset other than next or u64 max is Invalid', () => {
  const { r } = ring();
  r.append(OFFSET_AT_END, utf8Encode('a'));
  const e = r.append(0n, utf8Encode('b'));
  ok(e instanceof NineError && e.code === 'Invalid');
  equal(r.next(), 2, 'nothing applied');
});

test('ring: non-UTF-8 is Invalid', () => {
  const e = ring().r.append(OFFSET_AT_END, new Uint8Array([0xff]));
  ok(e instanceof NineError && e.code === 'Invalid');
});

test('ring: a record over 1024 bytes is TooBig with the quota audit line', () => {
  const { r, logs } = ring();
  const e = r.append(OFFSET_AT_END, new Uint8Array(1024).fill(0x61)); // 1025 with its newline
  ok(e instanceof NineError && e.code === 'TooBig');
  equal(logs[0], '[audit] telemetry quota reject bytes=1025 quota=1024');
  ok(!(r.append(OFFSET_AT_END, new Uint8Array(1023).fill(0x61)) instanceof NineError), '1023 + newline fits exactly');
});

test('ring: overflow drops the oldest whole records and logs the wrap', () => {
  const { r, logs } = ring();
  r.append(OFFSET_AT_END, new Uint8Array(999).fill(0x61)); // 1000 bytes
  r.append(OFFSET_AT_END, new Uint8Array(49).fill(0x62)); // 50 bytes: 26 over, so the whole first record goes
  equal(logs[0], '[audit] telemetry ring wrap dropped_bytes=1000 new_base=1000');
  equal(r.base(), 1000);
  equal(r.next(), 1050);
  const tail = r.read(1000n, 100);
  equal(text(tail), 'b'.repeat(49) + '\n');
});

test('ring: reading below base is stale with the rewind hint', () => {
  const { r } = ring();
  r.append(OFFSET_AT_END, new Uint8Array(1000).fill(0x61));
  r.append(OFFSET_AT_END, new Uint8Array(100).fill(0x62));
  equal(text(r.read(10n, 10)), 'ERR telemetry cursor stale requested=10 rewind_to=1001');
  equal(text(r.read(5000n, 10)), '', 'past the end is empty');
});

test('ring cursor: going back up to 1024 bytes before the last read is allowed, further is Invalid', () => {
  const { r } = ring();
  const c = new RingCursor(r);
  for (let i = 0; i < 30; i++) r.append(OFFSET_AT_END, new Uint8Array(99).fill(0x61)); // 3000 bytes in 100-byte records, base 2000
  ok(!(c.read(2999n, 1) instanceof NineError));
  ok(!(c.read(2000n, 10) instanceof NineError), '999 bytes back, still retained');
  ok(!(c.read(2999n, 1) instanceof NineError));
  const far = new RingCursor(r);
  ok(!(far.read(3000n, 1) instanceof NineError));
  r.append(OFFSET_AT_END, new Uint8Array(99).fill(0x61)); // base 2100
  const e = far.read(1975n, 1);
  ok(e instanceof NineError && e.message.startsWith('telemetry cursor rewind exceeds 1024 bytes'), String(e));
});

test('ring: after many wraps of uneven records the retained window starts with a whole record (bug 9: TAIL began with a fragment)', () => {
  const { r } = ring();
  for (let i = 0; i < 2000; i++) r.append(OFFSET_AT_END, utf8Encode(`{"tick":${i},"ts_ms":${1796682591511 + i * 37}${' '.repeat(i % 13)}}`));
  const window = text(r.read(BigInt(r.base()), 4096)) as string;
  ok(window.startsWith('{"tick":'), `starts with a record: ${window.slice(0, 20)}`);
  for (const line of window.split('\n').filter((l) => l !== '')) ok(/^\{"tick":\d+,"ts_ms":\d+ *\}$/.test(line), line);
});
