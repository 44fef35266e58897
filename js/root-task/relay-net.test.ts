// The net-console relay's read pause and resume (issue 13 bug 3): the wire kinds, RelayNet's side in root-task and the relay task's side.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import type { Caps, ChannelMessage, ListenHandlers } from '../caps/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import type { ConsoleNetHandlers } from './consoles.js';
import main from './net-console.js';
import { RelayNet } from './relay-net.js';
import {
  decodeRelay, encodeRelay, RELAY_ACCEPT, RELAY_CLOSE, RELAY_DATA, RELAY_HEADER_BYTES, RELAY_PAUSE, RELAY_RESUME,
} from './relay-wire.js';
import { Supervisor } from './supervisor.js';

/** The relay task's endpoint as root-task's fake task.spawn hands it out. */
const RELAY_EP = 3;

/** Lets queued microtasks (RelayNet flushes after the delivery in progress) run out. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Each message root-task sent the relay, as `<kind> <sock>[ <payload text>]`. */
function show(msg: ChannelMessage): string {
  if (typeof msg === 'string') return msg;
  const m = decodeRelay(msg);
  if (m === null) return 'malformed';
  const kind = ['', 'accept', 'data', 'closed', 'close', 'pause', 'resume'][m.kind];
  return m.payload.length > 0 ? `${kind} ${m.sock} ${String.fromCharCode(...m.payload)}` : `${kind} ${m.sock}`;
}

/** Root-task's side: a RelayNet over a Supervisor over fake caps; `full` makes channel.send throw as a full inbox does. */
function rootSide() {
  const sent: string[] = [];
  const timers: Array<() => void> = [];
  const state = { full: false };
  const caps = {
    log: { write: () => {} },
    timer: { nowMs: () => 0, setTimeout: (fn: () => void) => timers.push(fn), clear: () => {} },
    channel: {
      send: (ep: number, msg: ChannelMessage) => {
        equal(ep, RELAY_EP, 'every message goes to the relay task');
        if (state.full) throw Object.assign(new Error('inbox full'), { name: 'CapError', code: 'Busy', cap: 'channel' });
        sent.push(show(msg));
      },
      onMessage: () => {},
    },
    task: { spawn: () => ({ id: 7, ep: RELAY_EP }), kill: () => {}, onFault: () => {} },
  } as unknown as Caps;
  const net = new RelayNet(caps, new Supervisor(caps), 'net-console');
  const h: ConsoleNetHandlers = { onAccept: () => {}, onData: () => {}, onClose: () => {}, onReady: () => {}, onDown: () => {} };
  net.listen('127.0.0.1', 0, h);
  const fire = (): void => {
    for (const fn of timers.splice(0)) fn();
  };
  return { net, sent, state, fire };
}

test('relay wire: RELAY_PAUSE and RELAY_RESUME go down as a bare header and decode; the kind past RESUME is malformed', () => {
  for (const kind of [RELAY_PAUSE, RELAY_RESUME]) {
    const b = encodeRelay(kind, 0x01020304);
    equal(b.length, RELAY_HEADER_BYTES);
    deepEqual(decodeRelay(b), { kind, sock: 0x01020304, payload: new Uint8Array(0) });
  }
  equal(decodeRelay(encodeRelay(RELAY_RESUME + 1, 1)), null);
});

test('relay-net: a pause goes down as RELAY_PAUSE ahead of the replies queued with it, and a resume as RELAY_RESUME', async () => {
  const r = rootSide();
  r.net.write(5, utf8Encode('OK PING'));
  r.net.pauseReads(5, true);
  await settle();
  deepEqual(r.sent, ['pause 5', 'data 5 OK PING']);
  r.net.pauseReads(5, false);
  await settle();
  deepEqual(r.sent.slice(2), ['resume 5']);
});

test('relay-net: pause and resume asked in one delivery send only the latest state, one message per connection', async () => {
  const r = rootSide();
  r.net.pauseReads(5, true);
  r.net.pauseReads(5, false);
  r.net.pauseReads(5, true);
  r.net.pauseReads(6, true);
  r.net.pauseReads(6, false);
  await settle();
  deepEqual(r.sent, ['pause 5', 'resume 6']);
});

test('relay-net: a pause the relay\'s full inbox refused is sent on the retry, never dropped', async () => {
  const r = rootSide();
  r.state.full = true;
  r.net.pauseReads(5, true);
  await settle();
  deepEqual(r.sent, []);
  r.state.full = false;
  r.fire();
  deepEqual(r.sent, ['pause 5']);
});

test('relay-net: a connection being closed is not paused: only its close goes down', async () => {
  const r = rootSide();
  r.net.close(5);
  r.net.pauseReads(5, true);
  await settle();
  deepEqual(r.sent, ['close 5']);
});

/** The relay task's side: net-console's main over fake caps; `fromRoot` delivers a message from root-task. */
function relaySide() {
  const calls: string[] = [];
  let handlers: ListenHandlers | null = null;
  let onMessage: ((ep: number, msg: ChannelMessage) => void) | null = null;
  const caps = {
    log: { write: (l: string) => void calls.push(`log ${l}`) },
    net: {
      listen: (_o: unknown, h: ListenHandlers) => ((handlers = h), 1),
      localPort: () => 4000,
      write: (sock: number, b: Uint8Array) => void calls.push(`write ${sock} ${String.fromCharCode(...b)}`),
      close: (sock: number) => void calls.push(`close ${sock}`),
      pauseReads: (sock: number, paused: boolean) => void calls.push(`pauseReads ${sock} ${paused}`),
    },
    channel: { send: () => {}, onMessage: (fn: typeof onMessage) => void (onMessage = fn) },
  } as unknown as Caps;
  main(caps, { id: 7, label: 'net-console', task: 'net-console', args: { host: '127.0.0.1', port: 0 } });
  ok(handlers !== null && onMessage !== null, 'listening, and hearing root-task');
  const fromRoot = (kind: number, sock: number, payload?: Uint8Array): void => onMessage!(0, encodeRelay(kind, sock, payload));
  return { calls, fromRoot };
}

test('net-console: RELAY_PAUSE and RELAY_RESUME from root-task stop and restart reading that socket (back-pressure reaches TCP)', () => {
  const r = relaySide();
  r.fromRoot(RELAY_PAUSE, 9);
  r.fromRoot(RELAY_DATA, 9, utf8Encode('OK ECHO'));
  r.fromRoot(RELAY_RESUME, 9);
  r.fromRoot(RELAY_CLOSE, 9);
  deepEqual(r.calls, ['pauseReads 9 true', 'write 9 OK ECHO', 'pauseReads 9 false', 'close 9']);
});

test('net-console: a kind past RESUME from root-task is dropped and logged; a kind that only goes up does nothing', () => {
  const r = relaySide();
  r.fromRoot(RELAY_RESUME + 1, 9);
  r.fromRoot(RELAY_ACCEPT, 9);
  deepEqual(r.calls, ['log malformed relay message from root-task dropped']);
});
