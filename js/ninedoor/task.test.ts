// The NineDoor task's channel routing: a reused link endpoint starts with no sessions of the task that held it before.
import { test, equal, deepEqual } from '../testkit/index.js';
import type { Caps, ChannelMessage } from '../caps/index.js';
import { decodeFrame, encodeMessage } from '../secure9p/codec.js';
import { Errno } from '../secure9p/errors.js';
import type { Message } from '../secure9p/messages.js';
import { NOW_MS, SECRETS, ticket } from './door.support.js';
import main, { type NineDoorTaskArgs } from './task.js';
import { decodeWire, encodeWire, WIRE_FRAME } from './wire.js';

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
