// The concurrent session table: the cap, ERR AUTH reason=busy, slots freed on end, per-peer ATTACH guards, timers.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { AUTH_PENDING_PER_SOURCE_MAX, AUTH_PENDING_SESSIONS_MAX } from './limits.js';
import { ConsoleSessionTable, peerHost } from './sessions.js';
import { FakeBackend, RecordingTransport, frame } from './session.support.js';

function table(maxSessions?: number) {
  return new ConsoleSessionTable({ authToken: 'changeme', maxSessions, makeBackend: () => new FakeBackend() });
}

test('sessions: default cap is 4 authenticated; a 5th AUTH gets ERR AUTH reason=busy and is closed (issue 13 bug 2: counted at AUTH)', () => {
  const t = table();
  equal(t.maxSessions, 4);
  const ts = Array.from({ length: 5 }, () => new RecordingTransport());
  for (let i = 0; i < 5; i++) ok(t.accept(i, `10.0.0.${i}:5000`, ts[i], 0) !== null, 'a connection is accepted into the pre-AUTH pool');
  for (let i = 0; i < 5; i++) t.receive(i, frame('AUTH changeme'), 1);
  for (let i = 0; i < 4; i++) deepEqual(ts[i].lines, ['OK AUTH']);
  deepEqual(ts[4].lines, ['ERR AUTH reason=busy']);
  ok(ts[4].closed);
  equal(t.size(), 4);
  equal(t.pendingAuth(), 0);
  equal(t.refusedBusy, 1);
  t.receive(0, frame('quit'), 2);
  const again = new RecordingTransport();
  t.accept(9, '10.0.0.9:1', again, 3);
  t.receive(9, frame('AUTH changeme'), 3);
  deepEqual(again.lines, ['OK AUTH'], 'a slot freed by QUIT is taken at the next AUTH');
});

test('sessions: idle preauth connections do not lock out operators (issue 13 bug 2)', () => {
  const t = table();
  const idle = Array.from({ length: AUTH_PENDING_SESSIONS_MAX }, () => new RecordingTransport());
  // Idle connections from several sources, within each source's share: the pool fills, no slot is used.
  idle.forEach((tr, i) => t.accept(i, `10.0.1.${i % 4}:${6000 + i}`, tr, 0));
  equal(t.pendingAuth(), AUTH_PENDING_SESSIONS_MAX);
  equal(t.size(), 0);
  const op = new RecordingTransport();
  t.accept(100, '10.0.9.9:1', op, 1);
  equal(t.pendingAuth(), AUTH_PENDING_SESSIONS_MAX, 'the pool stays at its bound');
  deepEqual(idle[0].lines, ['ERR AUTH reason=busy'], 'the oldest unauthenticated connection (of a source holding the most) was evicted');
  ok(idle[0].closed);
  equal(t.evicted, 1);
  t.receive(100, frame('AUTH changeme'), 1);
  t.receive(100, frame('ping'), 1);
  deepEqual(op.lines, ['OK AUTH', 'OK PING reply=pong', 'PONG']);
  ok(idle.slice(1).every((tr) => !tr.closed));
});

test('sessions: one source holds at most AUTH_PENDING_PER_SOURCE_MAX connections in AUTH; its own oldest goes first (issue 13 bug 2)', () => {
  const t = table();
  const other = new RecordingTransport();
  t.accept(0, '10.0.2.2:1', other, 0);
  const flood = Array.from({ length: AUTH_PENDING_PER_SOURCE_MAX + 3 }, () => new RecordingTransport());
  flood.forEach((tr, i) => t.accept(i + 1, `10.0.2.1:${7000 + i}`, tr, 0));
  equal(t.pendingAuth(), AUTH_PENDING_PER_SOURCE_MAX + 1);
  equal(flood.filter((tr) => tr.closed).length, 3, 'the flooding source evicted its own oldest');
  ok(flood.slice(0, 3).every((tr) => tr.closed && tr.lines[0] === 'ERR AUTH reason=busy'));
  ok(!other.closed, 'another source is untouched');
  t.receive(0, frame('AUTH changeme'), 1);
  deepEqual(other.lines, ['OK AUTH']);
});

test('sessions: idle preauth connections do not lock out operators: a full pool evicts from the source holding the most, not a lone operator', () => {
  const t = table();
  const op = new RecordingTransport();
  t.accept(0, '10.0.5.5:1', op, 0);
  // Four flooding sources fill the rest of the pool, then keep connecting.
  for (let i = 1; i < AUTH_PENDING_SESSIONS_MAX * 4; i++) t.accept(i, `10.0.4.${i % 4}:${i}`, new RecordingTransport(), 0);
  ok(!op.closed, 'the oldest connection of all, but its source holds one');
  t.receive(0, frame('AUTH changeme'), 1);
  deepEqual(op.lines, ['OK AUTH']);
});

test('sessions: an authenticated session is never evicted by new connections', () => {
  const t = table(1);
  const op = new RecordingTransport();
  t.accept(0, '10.0.3.1:1', op, 0);
  t.receive(0, frame('AUTH changeme'), 0);
  for (let i = 1; i <= AUTH_PENDING_SESSIONS_MAX * 2; i++) t.accept(i, `10.0.3.1:${i + 1}`, new RecordingTransport(), 0);
  ok(!op.closed);
  equal(t.size(), 1);
  equal(t.pendingAuth(), AUTH_PENDING_PER_SOURCE_MAX);
});

test('sessions: each session has its own AUTH and attachment', () => {
  const t = table(2);
  const a = new RecordingTransport();
  const b = new RecordingTransport();
  t.accept(1, '10.0.0.1:1', a, 0);
  t.accept(2, '10.0.0.2:1', b, 0);
  t.receive(1, frame('AUTH changeme'), 1);
  t.receive(1, frame('attach queen'), 1);
  t.receive(2, frame('AUTH wrongone'), 1);
  deepEqual(a.lines, ['OK AUTH', 'OK ATTACH role=queen']);
  deepEqual(b.lines, ['ERR AUTH reason=invalid-token']);
  equal(t.size(), 1, 'the refused one freed its slot');
});

test('sessions: a slot frees on QUIT, peer close and timeout', () => {
  const t = table(1);
  t.accept(1, 'h:1', new RecordingTransport(), 0);
  t.receive(1, frame('AUTH changeme'), 1);
  t.receive(1, frame('quit'), 2);
  equal(t.size(), 0);
  t.accept(2, 'h:2', new RecordingTransport(), 10);
  t.peerClosed(2);
  equal(t.size(), 0);
  t.accept(3, 'h:3', new RecordingTransport(), 100);
  equal(t.nextDeadlineMs(), 5_100);
  t.tick(5_100);
  equal(t.size(), 0);
});

test('sessions: max_sessions is clamped to at least 1', () => {
  equal(table(0).maxSessions, 1);
});

test('sessions: connections from one host share an ATTACH guard; reconnecting does not reset the throttle', () => {
  const t = table();
  const a = new RecordingTransport();
  t.accept(1, '10.0.0.9:4000', a, 0);
  t.receive(1, frame('AUTH changeme'), 1);
  t.receive(1, frame('attach worker nope'), 1_000);
  t.peerClosed(1);
  const b = new RecordingTransport();
  t.accept(2, '10.0.0.9:4001', b, 1_050);
  t.receive(2, frame('AUTH changeme'), 1_050);
  t.receive(2, frame('attach queen'), 1_100);
  deepEqual(b.lines, ['OK AUTH', 'ERR ATTACH reason=quota detail=throttled delay_ms=150']);
  const c = new RecordingTransport();
  t.accept(3, '10.0.0.10:4000', c, 1_100);
  t.receive(3, frame('AUTH changeme'), 1_100);
  t.receive(3, frame('attach queen'), 1_100);
  deepEqual(c.lines, ['OK AUTH', 'OK ATTACH role=queen'], 'another host is not throttled');
});

test('sessions: peerHost strips the port from v4 and bracketed v6', () => {
  equal(peerHost('127.0.0.1:31337'), '127.0.0.1');
  equal(peerHost('[::1]:31337'), '::1');
  equal(peerHost('::1'), '::1');
  equal(peerHost('uart'), 'uart');
});

test('sessions: closeAll ends every session', () => {
  const t = table();
  const ts = [new RecordingTransport(), new RecordingTransport()];
  t.accept(1, 'a:1', ts[0], 0);
  t.accept(2, 'a:2', ts[1], 0);
  t.closeAll();
  equal(t.size(), 0);
  ok(ts.every((x) => x.closed));
});
