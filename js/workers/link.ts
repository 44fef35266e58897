// A worker's Secure9P client to NineDoor over its linked channel (endpoint 1, routed session 0).
import type { Caps } from '../caps/index.js';
import { NineClient } from '../secure9p/client.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from '../ninedoor/wire.js';

/** The endpoint a worker spawned with `link` reaches NineDoor on (js/caps: TaskSpawnOptions.link). */
export const NINEDOOR_EP = 1;
const WORKER_SESSION = 0;
/** How often the worker times out requests NineDoor never answered. */
const EXPIRE_INTERVAL_MS = 1000;

export function nineDoorClient(caps: Caps, onClosed: (reason: string) => void): NineClient {
  const client = new NineClient({
    send: (frame) => caps.channel.send(NINEDOOR_EP, encodeWire(WIRE_FRAME, WORKER_SESSION, frame)),
    nowMs: () => caps.timer.nowMs(),
  });
  caps.channel.onMessage((ep, msg) => {
    if (ep !== NINEDOOR_EP || typeof msg === 'string') return;
    const w = decodeWire(msg);
    if (!w || w.session !== WORKER_SESSION) return;
    if (w.kind === WIRE_CLOSE) {
      client.close('closed by NineDoor');
      onClosed('closed by NineDoor');
    } else client.receive(w.payload);
  });
  caps.timer.setInterval(() => client.expire(), EXPIRE_INTERVAL_MS);
  return client;
}

/** The session is over for good: tell NineDoor, so its session table does not keep us. */
export function closeNineDoor(caps: Caps): void {
  try {
    caps.channel.send(NINEDOOR_EP, encodeWire(WIRE_CLOSE, WORKER_SESSION));
  } catch {
    // NineDoor is gone
  }
}
