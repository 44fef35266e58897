// Console framing: exact bytes, the server's before/after-AUTH rules, the client rule, split chunks.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';
import { rawFrame } from './session.support.js';

test('frame: encodes `PING` as total_len 8 LE (header counted) then the bytes', () => {
  deepEqual(encodeFrame('PING'), new Uint8Array([8, 0, 0, 0, 0x50, 0x49, 0x4e, 0x47]));
});

test('frame: empty line is a 4-byte frame', () => {
  deepEqual(encodeFrame(''), new Uint8Array([4, 0, 0, 0]));
});

test('frame: UTF-8 length, not string length, goes in the header', () => {
  deepEqual(encodeFrame('é'), new Uint8Array([6, 0, 0, 0, 0xc3, 0xa9]));
});

test('frame: refusal when the line is over the payload bound', () => {
  ok(encodeFrame('x'.repeat(8188)) instanceof Uint8Array);
  ok(encodeFrame('x'.repeat(8189)) instanceof FrameError);
  ok(encodeFrame('x'.repeat(257), 256) instanceof FrameError);
});

test('frame: decoder joins a frame split byte by byte', () => {
  const d = new FrameDecoder('server');
  const bytes = encodeFrame('AUTH changeme') as Uint8Array;
  const events = [];
  for (const b of bytes) events.push(...d.push(new Uint8Array([b])));
  deepEqual(events, [{ kind: 'frame', text: 'AUTH changeme' }]);
  equal(d.buffered(), 0);
});

test('frame: two frames in one chunk come out in order', () => {
  const d = new FrameDecoder('server');
  const a = encodeFrame('a') as Uint8Array;
  const b = encodeFrame('bc') as Uint8Array;
  const both = new Uint8Array([...a, ...b]);
  deepEqual(d.push(both), [{ kind: 'frame', text: 'a' }, { kind: 'frame', text: 'bc' }]);
});

test('frame: empty payload is an empty command, not an error', () => {
  deepEqual(new FrameDecoder('server').push(rawFrame(4, '')), [{ kind: 'frame', text: '' }]);
});

test('frame: server before AUTH: declared length below 4 is fatal', () => {
  const ev = new FrameDecoder('server').push(new Uint8Array([3, 0, 0, 0]));
  equal(ev.length, 1);
  equal(ev[0].kind === 'fatal' && ev[0].code, 'length-below-min');
});

test('frame: server before AUTH: payload of 257 is fatal (after the header, before any payload)', () => {
  const d = new FrameDecoder('server');
  const ev = d.push(rawFrame(4 + 257, ''));
  equal(ev[0].kind === 'fatal' && ev[0].code, 'payload-over-max');
  ok(d.isDead());
  deepEqual(d.push(encodeFrame('PING') as Uint8Array), [], 'a dead decoder ignores later input');
});

test('frame: server before AUTH: declared over 8192 is fatal', () => {
  const ev = new FrameDecoder('server').push(rawFrame(8193, ''));
  equal(ev[0].kind === 'fatal' && ev[0].code, 'length-over-max');
});

test('frame: server before AUTH: payload of exactly 256 is accepted', () => {
  const ev = new FrameDecoder('server').push(rawFrame(260, 'x'.repeat(256)));
  deepEqual(ev, [{ kind: 'frame', text: 'x'.repeat(256) }]);
});

test('frame: server before AUTH: invalid UTF-8 is fatal', () => {
  const ev = new FrameDecoder('server').push(rawFrame(6, new Uint8Array([0xc3, 0x28])));
  equal(ev[0].kind === 'fatal' && ev[0].code, 'invalid-utf8');
});

test('frame: server after AUTH: oversize frame is skipped and the next frame decodes', () => {
  const d = new FrameDecoder('server');
  d.setAuthenticated();
  const big = rawFrame(4 + 1000, 'y'.repeat(1000));
  const next = encodeFrame('PING') as Uint8Array;
  const ev = d.push(new Uint8Array([...big, ...next]));
  deepEqual(ev, [{ kind: 'oversize', declaredBytes: 1004 }, { kind: 'frame', text: 'PING' }]);
  ok(d.buffered() <= d.bufferBytesMax);
});

test('frame: server after AUTH: declared over 8192 is skipped too, not fatal', () => {
  const d = new FrameDecoder('server');
  d.setAuthenticated();
  const ev = d.push(new Uint8Array([...rawFrame(9000, ''), ...new Uint8Array(8996), ...(encodeFrame('x') as Uint8Array)]));
  deepEqual(ev, [{ kind: 'oversize', declaredBytes: 9000 }, { kind: 'frame', text: 'x' }]);
});

test('frame: server after AUTH: declared below 4 is still fatal (cannot resynchronise)', () => {
  const d = new FrameDecoder('server');
  d.setAuthenticated();
  equal(d.push(new Uint8Array([2, 0, 0, 0]))[0].kind, 'fatal');
});

test('frame: server after AUTH: invalid UTF-8 is reported, not fatal', () => {
  const d = new FrameDecoder('server');
  d.setAuthenticated();
  deepEqual(d.push(new Uint8Array([...rawFrame(5, new Uint8Array([0xff])), ...(encodeFrame('ok') as Uint8Array)])), [
    { kind: 'invalid-utf8' },
    { kind: 'frame', text: 'ok' },
  ]);
});

test('frame: client accepts a declared length up to 8192', () => {
  const d = new FrameDecoder('client');
  deepEqual(d.push(encodeFrame('z'.repeat(8188)) as Uint8Array), [{ kind: 'frame', text: 'z'.repeat(8188) }]);
});

test('frame: client: declared length 8193 is fatal', () => {
  const ev = new FrameDecoder('client').push(rawFrame(8193, ''));
  equal(ev[0].kind === 'fatal' && ev[0].code, 'length-over-max');
});

test('frame: client: declared length 3 is fatal', () => {
  equal(new FrameDecoder('client').push(new Uint8Array([3, 0, 0, 0]))[0].kind, 'fatal');
});

test('frame: next() stops at each event so the caller can switch rules between frames', () => {
  const d = new FrameDecoder('server');
  const auth = encodeFrame('AUTH t') as Uint8Array;
  const big = rawFrame(4 + 300, 'q'.repeat(300));
  const chunk = new Uint8Array([...auth, ...big]);
  const first = d.next(chunk, 0);
  deepEqual(first, { consumed: auth.length, event: { kind: 'frame', text: 'AUTH t' } });
  d.setAuthenticated();
  const second = d.next(chunk, first.consumed);
  deepEqual(second.event, { kind: 'oversize', declaredBytes: 304 });
});
