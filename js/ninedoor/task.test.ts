// The NineDoor task's channel routing (a reused link endpoint starts with no sessions of the task that held it before) and its hot-reload handoff.
import { test, equal, deepEqual } from '../testkit/index.js';
import type { Caps, ChannelMessage } from '../caps/index.js';
import { decodeFrame, encodeMessage } from '../secure9p/codec.js';
import { Errno } from '../secure9p/errors.js';
import type { Message } from '../secure9p/messages.js';
import { NOW_MS, SECRETS, ticket } from './door.support.js';
import main, { type NineDoorTaskArgs } from './task.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from './wire.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { utf8Encode } from '../bytes/utf8.js';

const WORKER_EP = 1;
const WORKER_SESSION = 0;
const NO_FID = 0xffffffff;

interface FakeTask {
  caps: Caps;
  /** Messages NineDoor sent, per endpoint. */
  sent: Map<number, ChannelMessage[]>;
  deliver(ep: number, msg: ChannelMessage): void;
  link(ep: number, peer: number, label: string): void;
}

/** Just the caps the NineDoor task uses without a TCP listener: log, timer, channel. */
function fakeTask(logs: string[]): FakeTask {
  const sent = new Map<number, ChannelMessage[]>();
  let onMessage: ((ep: number, msg: ChannelMessage) => void) | null = null;
  let onLink: ((ep: number, peer: number, label: string) => void) | null = null;
  const unused = (): never => {
    throw new Error('not used by the NineDoor task in this test');
  };
  const caps = {
    log: { write: (l: string) => void logs.push(l) },
    timer: { nowMs: () => 0, wallMs: () => NOW_MS, setTimeout: () => 1, setInterval: () => 1, clear: () => {} },
    channel: {
      send: (ep: number, msg: ChannelMessage) => void (sent.get(ep) ?? sent.set(ep, []).get(ep)!).push(msg),
      onMessage: (h: typeof onMessage) => void (onMessage = h),
      onLink: (h: typeof onLink) => void (onLink = h),
    },
    console: unused, net: unused, task: unused, image: unused,
  } as unknown as Caps;
  return {
    caps, sent,
    deliver: (ep, msg) => onMessage!(ep, msg),
    link: (ep, peer, label) => onLink!(ep, peer, label),
  };
}

function door(t: FakeTask, method: string, args: unknown[]): void {
  t.deliver(0, JSON.stringify({ op: 'door', method, args }));
}

/** Sends one 9P request on the worker endpoint and returns NineDoor's reply to it. */
function call(t: FakeTask, m: Message): Message {
  const before = (t.sent.get(WORKER_EP) ?? []).length;
  t.deliver(WORKER_EP, encodeWire(WIRE_FRAME, WORKER_SESSION, encodeMessage(m)));
  const out = (t.sent.get(WORKER_EP) ?? []).slice(before);
  equal(out.length, 1, `one reply to ${m.kind}`);
  const w = decodeWire(out[0] as Uint8Array)!;
  equal(w.kind, WIRE_FRAME, `${m.kind} answered with a frame`);
  const d = decodeFrame(w.payload);
  if (!d.ok) throw new Error(`undecodable reply to ${m.kind}`);
  return d.message;
}

function attachWorker(t: FakeTask, id: string): Message[] {
  const tk = ticket({ role: 'worker-heartbeat', subject: id });
  return [
    call(t, { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }),
    call(t, { kind: 'Tattach', tag: 1, fid: 0, afid: NO_FID, uname: '', aname: tk, nUname: NO_FID }),
  ];
}

test('ninedoor task: a worker linked on the endpoint of a revoked worker attaches (stale sessions end at onLink)', () => {
  const logs: string[] = [];
  const t = fakeTask(logs);
  const args: NineDoorTaskArgs = { secrets: SECRETS, allow_ticketless_queen: false, ninep: null };
  main(t.caps, { id: 2, label: 'ninedoor', task: 'ninedoor', args });
  door(t, 'state.setLifecycle', [{ state: 'ONLINE', reason: 'boot-complete', sinceMs: NOW_MS }]);

  door(t, 'addWorker', ['worker-1', 'heartbeat', {}]);
  t.link(WORKER_EP, 3, 'worker-1');
  deepEqual(attachWorker(t, 'worker-1').map((m) => m.kind), ['Rversion', 'Rattach']);
  // The ttl revocation: the session is revoked (not closed), and the task is killed by root-task.
  door(t, 'removeWorker', ['worker-1', 'ticket ttl expired']);
  const after = call(t, { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  deepEqual(after, { kind: 'Rlerror', tag: 0xffff, ecode: Errno.EBADF }, 'the revoked session answers Closed');

  // The firmware reuses the free endpoint for the next linked worker, which starts at session 0 too.
  door(t, 'addWorker', ['worker-2', 'heartbeat', {}]);
  t.link(WORKER_EP, 4, 'worker-2');
  deepEqual(attachWorker(t, 'worker-2').map((m) => m.kind), ['Rversion', 'Rattach']);
});

test('ninedoor task: a hot reload carries a worker session with its open fid; a session with a request in flight is closed', () => {
  const logs: string[] = [];
  const args: NineDoorTaskArgs = { secrets: SECRETS, allow_ticketless_queen: true, ninep: null };
  const old = fakeTask(logs);
  const handle = main(old.caps, { id: 2, label: 'ninedoor', task: 'ninedoor', args });
  door(old, 'state.setLifecycle', [{ state: 'ONLINE', reason: 'boot-complete', sinceMs: NOW_MS }]);
  door(old, 'addWorker', ['worker-1', 'heartbeat', {}]);
  old.link(WORKER_EP, 3, 'worker-1');
  attachWorker(old, 'worker-1');
  equal(call(old, { kind: 'Twalk', tag: 1, fid: 0, newfid: 1, names: ['worker', 'worker-1', 'telemetry'] }).kind, 'Rwalk');
  equal(call(old, { kind: 'Tlopen', tag: 1, fid: 1, flags: OpenFlag.WRONLY | OpenFlag.APPEND }).kind, 'Rlopen');
  const record = (tick: number): Message =>
    ({ kind: 'Twrite', tag: 1, fid: 1, offset: 0xffffffffffffffffn, data: utf8Encode(`{"tick":${tick}}\n`) });
  equal(call(old, record(1)).kind, 'Rwrite');

  // A queen session on root-task's endpoint with a /queen/ctl write waiting for root-task's answer.
  const QUEEN_SESSION = 5;
  const queen = (m: Message): void => old.deliver(0, encodeWire(WIRE_FRAME, QUEEN_SESSION, encodeMessage(m)));
  queen({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  queen({ kind: 'Tattach', tag: 1, fid: 0, afid: NO_FID, uname: 'queen', aname: '', nUname: NO_FID });
  queen({ kind: 'Twalk', tag: 1, fid: 0, newfid: 1, names: ['queen', 'ctl'] });
  queen({ kind: 'Tlopen', tag: 1, fid: 1, flags: OpenFlag.WRONLY | OpenFlag.APPEND });
  queen({ kind: 'Twrite', tag: 2, fid: 1, offset: 0n, data: utf8Encode('{"spawn":"heartbeat","ticks":5}\n') });

  const state = JSON.parse(JSON.stringify(handle.snapshot!()));
  const next = fakeTask(logs);
  const handle2 = main(next.caps, { id: 2, label: 'ninedoor', task: 'ninedoor', args });
  handle2.restore!(state);
  // The worker goes on with fid 1 as it was: no version, no attach, no walk.
  equal(call(next, record(2)).kind, 'Rwrite');
  // The queen session had a request in flight: closed, so root-task attaches again.
  const toRoot = (next.sent.get(0) ?? []).filter((m) => m instanceof Uint8Array).map((m) => decodeWire(m as Uint8Array)!);
  deepEqual(toRoot.map((w) => [w.kind, w.session]), [[WIRE_CLOSE, QUEEN_SESSION]]);
  equal(logs[logs.length - 1], 'reloaded: 1 workers, 1 sessions kept, 1 closed (their clients attach again)');
  // The ring holds both records at their offsets: the content crossed with the session.
  equal(call(next, { kind: 'Twalk', tag: 1, fid: 0, newfid: 2, names: ['worker', 'worker-1', 'telemetry'] }).kind, 'Rwalk');
});

test('ninedoor task: restore refuses a handoff it does not understand (the firmware then rolls the reload back)', () => {
  const t = fakeTask([]);
  const handle = main(t.caps, { id: 2, label: 'ninedoor', task: 'ninedoor', args: { secrets: SECRETS, allow_ticketless_queen: false, ninep: null } });
  let threw = '';
  try {
    handle.restore!({ schema: 'ninedoor-handoff/v0' });
  } catch (e) {
    threw = (e as Error).message;
  }
  equal(threw.includes('ninedoor-handoff/v1'), true, threw);
});
