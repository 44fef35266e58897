// Property tests: random byte streams never throw out of the frame decoder, the line discipline or a session, and never buffer past their bounds.
import fc from 'fast-check';
import { test, ok } from '../testkit/index.js';
import { AttachGuard } from './attach-guard.js';
import { FrameDecoder } from './frame.js';
import { LineDiscipline } from './line.js';
import { CONSOLE_LINE_BYTES_MAX } from './limits.js';
import { parseRequest } from './request.js';
import { TcpConsoleSession } from './session.js';
import { UartConsoleSession } from './uart.js';
import { FakeBackend, RecordingTransport, frame } from './session.support.js';

const PROPERTY_RUNS = 500;
const chunks = fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 12 });

test('frame property: random chunks never throw and never buffer past the bound (server and client, both phases)', () => {
  fc.assert(fc.property(chunks, fc.constantFrom('server', 'client'), fc.boolean(), (cs, side, authed) => {
    const d = new FrameDecoder(side as 'server' | 'client');
    if (authed) d.setAuthenticated();
    for (const c of cs) {
      d.push(c);
      ok(d.buffered() <= d.bufferBytesMax);
    }
  }), { numRuns: PROPERTY_RUNS });
});

test('frame property: well-formed frames survive any chunking', () => {
  const lines = fc.array(fc.string({ maxLength: 60 }).filter((s) => !/[\ud800-\udfff]/.test(s)), { minLength: 1, maxLength: 8 });
  fc.assert(fc.property(lines, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (ls, cuts) => {
    const all = ls.map(frame).reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array(0));
    const d = new FrameDecoder('client');
    const got: string[] = [];
    let at = 0;
    for (let i = 0; at < all.length; i++) {
      const n = cuts[i % cuts.length];
      for (const ev of d.push(all.subarray(at, at + n))) if (ev.kind === 'frame') got.push(ev.text);
      at += n;
    }
    ok(JSON.stringify(got) === JSON.stringify(ls), `${JSON.stringify(got)} vs ${JSON.stringify(ls)}`);
  }), { numRuns: PROPERTY_RUNS });
});

test('line property: random bytes never throw and never buffer past 256', () => {
  fc.assert(fc.property(chunks, (cs) => {
    const d = new LineDiscipline();
    for (const c of cs) {
      const r = d.push(c);
      ok(d.buffered() <= CONSOLE_LINE_BYTES_MAX);
      for (const e of r.events) if (e.kind === 'line') ok(e.text.length <= CONSOLE_LINE_BYTES_MAX);
    }
  }), { numRuns: PROPERTY_RUNS });
});

test('request property: any string parses to a request or a ParseError, never a throw', () => {
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    const r = parseRequest(s);
    ok(typeof r === 'object' && r !== null);
  }), { numRuns: PROPERTY_RUNS });
});

test('session property: random bytes after AUTH never throw; the session stays open or closes cleanly', () => {
  fc.assert(fc.property(chunks, (cs) => {
    const backend = new FakeBackend();
    const transport = new RecordingTransport();
    const s = new TcpConsoleSession({ authToken: 'changeme', backend, guard: new AttachGuard(), transport, nowMs: 0 });
    s.receive(frame('AUTH changeme'), 1);
    for (const c of cs) s.receive(c, 2);
    ok(backend.closedWith.length <= 1);
    ok(s.queueCounters().waiting <= 8);
  }), { numRuns: PROPERTY_RUNS });
});

test('uart property: random bytes never throw', () => {
  fc.assert(fc.property(chunks, (cs) => {
    const s = new UartConsoleSession({ backend: new FakeBackend(), guard: new AttachGuard(), write: () => {} });
    for (const c of cs) s.receive(c, 1);
  }), { numRuns: PROPERTY_RUNS });
});
