// A worker's Secure9P link to NineDoor over its linked channel (endpoint 1, routed session 0).
import type { Caps } from '../caps/index.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from '../ninedoor/wire.js';

/**
 * What carries a worker's replies: the general NineClient or the small Appender. This module
 * imports neither: the codec builds its tables when loaded, so importing it would cost every
 * worker that bundles link.ts its arena, used or not.
 */
export interface FrameSink {
  receive(frame: Uint8Array): void;
  expire(): void;
  close(reason: string): void;
}

/** The endpoint a worker spawned with `link` reaches NineDoor on (js/caps: TaskSpawnOptions.link). */
export const NINEDOOR_EP = 1;
const WORKER_SESSION = 0;
/** How often the worker times out requests NineDoor never answered. */
const EXPIRE_INTERVAL_MS = 1000;

/** Sends one 9P frame to NineDoor on the worker's routed session. */
export function sendToNineDoor(caps: Caps, frame: Uint8Array): void {
  caps.channel.send(NINEDOOR_EP, encodeWire(WIRE_FRAME, WORKER_SESSION, frame));
}

/** Routes NineDoor's replies on the worker's session to `sink`, and times out its requests. */
export function routeNineDoor(caps: Caps, client: FrameSink, onClosed: (reason: string) => void): void {
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
}

/** The session is over for good: tell NineDoor, so its session table does not keep us. */
export function closeNineDoor(caps: Caps): void {
  try {
    caps.channel.send(NINEDOOR_EP, encodeWire(WIRE_CLOSE, WORKER_SESSION));
  } catch {
    // NineDoor is gone
  }
}
