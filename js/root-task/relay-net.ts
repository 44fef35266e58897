// ConsoleNet over the net-console task: root-task keeps the console protocol, the task keeps the sockets.
import type { Caps } from '../caps/index.js';
import { utf8Decode } from '../bytes/utf8.js';
import type { ConsoleNet, ConsoleNetHandlers } from './consoles.js';
import { CHANNEL_MESSAGE_BYTES_MAX, NET_SEND_BUFFER_BYTES_MAX } from '../caps/limits.js';
import {
  decodeRelay, encodeRelay, RELAY_ACCEPT, RELAY_CLOSE, RELAY_CLOSED, RELAY_DATA, RELAY_HEADER_BYTES, RELAY_PAUSE, RELAY_RESUME,
} from './relay-wire.js';
import type { Supervisor } from './supervisor.js';

/**
 * Reply bytes one connection may have waiting for the relay, as its socket's own send buffer:
 * past it the session is a slow peer (consoles.ts) and ends.
 */
export const RELAY_PENDING_BYTES_MAX = NET_SEND_BUFFER_BYTES_MAX;
/** Bytes of a connection's replies one channel message carries. */
const RELAY_CHUNK_BYTES = CHANNEL_MESSAGE_BYTES_MAX - RELAY_HEADER_BYTES;
/** When the relay's inbox is full, the next try, in ms. */
const RELAY_RETRY_MS = 2;

/** What waits for the relay on one connection: a read pause or resume, reply bytes, then maybe its close. */
interface Outbox {
  /** The read state to tell the relay (the latest asked for), or null when nothing changed. */
  pause: boolean | null;
  chunks: Uint8Array[];
  bytes: number;
  close: boolean;
}

/**
 * Writes are batched per connection and flushed once the current delivery is over: a burst of
 * requests (800 pipelined lines) gives one or a few channel messages, not one per reply line,
 * which would overrun the relay's 64-message inbox. A full inbox is retried, never dropped, and a
 * close always reaches the relay after the bytes before it.
 */
export class RelayNet implements ConsoleNet {
  private id = 0;
  private ep = -1;
  private readonly out = new Map<number, Outbox>();
  private flushQueued = false;
  private retryTimer = 0;

  constructor(private readonly caps: Caps, private readonly supervisor: Supervisor, private readonly task: string) {}

  /** The relay task's id while it runs (0 otherwise), for the UART's task views. */
  taskId(): number {
    return this.id;
  }

  listen(host: string, port: number, h: ConsoleNetHandlers): void {
    let rec;
    try {
      rec = this.supervisor.spawn({ task: this.task, label: this.task, args: { host, port } }, true);
    } catch (e) {
      return h.onDown(`${this.task} not started: ${(e as Error).message}`);
    }
    this.id = rec.id;
    this.ep = rec.ep;
    const id = rec.id;
    this.supervisor.onGone(id, (why) => {
      if (this.id === id) {
        this.id = 0;
        this.ep = -1;
        // Its sockets went with it: nothing waiting for them can be delivered.
        this.out.clear();
      }
      h.onDown(`${this.task} ${why}; 'restart tcp-console' at the UART brings it back`);
    });
    this.supervisor.route(rec.ep, (msg) => {
      if (typeof msg === 'string') {
        let m: { op?: string; port?: number; error?: string };
        try {
          m = JSON.parse(msg) as typeof m;
        } catch {
          return this.caps.log.write(`${this.task}: control message is not JSON`);
        }
        if (m.op === 'ready') h.onReady(Number(m.port) || 0);
        else if (m.op === 'down') h.onDown(String(m.error));
        return;
      }
      const r = decodeRelay(msg);
      if (!r) return this.caps.log.write(`${this.task}: malformed relay message dropped`);
      if (r.kind === RELAY_ACCEPT) h.onAccept(r.sock, utf8Decode(r.payload) ?? '?');
      else if (r.kind === RELAY_DATA) h.onData(r.sock, r.payload);
      else if (r.kind === RELAY_CLOSED) h.onClose(r.sock);
    });
  }

  write(sock: number, bytes: Uint8Array): void {
    if (this.ep < 0) throw new Error(`${this.task} is not running`);
    const box = this.box(sock);
    if (box.close) return;
    if (box.bytes + bytes.length > RELAY_PENDING_BYTES_MAX) {
      throw new Error(`${box.bytes} bytes already wait for ${this.task} (${RELAY_PENDING_BYTES_MAX} max)`);
    }
    box.chunks.push(bytes);
    box.bytes += bytes.length;
    this.queueFlush();
  }

  close(sock: number): void {
    if (this.ep < 0) return;
    this.box(sock).close = true;
    this.queueFlush();
  }

  /** One message per change at most: only the latest state waiting for the relay is sent. */
  pauseReads(sock: number, paused: boolean): void {
    if (this.ep < 0) return;
    const box = this.box(sock);
    if (box.close) return;
    box.pause = paused;
    this.queueFlush();
  }

  private box(sock: number): Outbox {
    let b = this.out.get(sock);
    if (b === undefined) {
      b = { pause: null, chunks: [], bytes: 0, close: false };
      this.out.set(sock, b);
    }
    return b;
  }

  /** After the delivery in progress: its replies go out together. */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    void Promise.resolve().then(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.ep < 0) {
      this.out.clear();
      return;
    }
    for (const [sock, box] of this.out) {
      if (box.pause !== null) {
        try {
          this.caps.channel.send(this.ep, encodeRelay(box.pause ? RELAY_PAUSE : RELAY_RESUME, sock));
          box.pause = null;
        } catch {
          return this.retry();
        }
      }
      while (box.bytes > 0) {
        const n = Math.min(box.bytes, RELAY_CHUNK_BYTES);
        const joined = take(box, n);
        try {
          this.caps.channel.send(this.ep, encodeRelay(RELAY_DATA, sock, joined));
        } catch {
          // The relay's inbox is full: put the bytes back and try again shortly.
          box.chunks.unshift(joined);
          box.bytes += joined.length;
          return this.retry();
        }
      }
      if (box.close) {
        try {
          this.caps.channel.send(this.ep, encodeRelay(RELAY_CLOSE, sock));
        } catch {
          return this.retry();
        }
      }
      this.out.delete(sock);
    }
  }

  private retry(): void {
    if (this.retryTimer !== 0) return;
    this.retryTimer = this.caps.timer.setTimeout(() => {
      this.retryTimer = 0;
      this.flush();
    }, RELAY_RETRY_MS);
  }

  stop(): void {
    if (this.id) this.supervisor.kill(this.id, 'console stopped', true);
  }
}

/** Removes the first n bytes of a connection's waiting replies, as one array. */
function take(box: Outbox, n: number): Uint8Array {
  const first = box.chunks[0];
  if (first.length === n) {
    box.chunks.shift();
    box.bytes -= n;
    return first;
  }
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const c = box.chunks[0];
    const k = Math.min(c.length, n - at);
    out.set(k === c.length ? c : c.subarray(0, k), at);
    at += k;
    if (k === c.length) box.chunks.shift();
    else box.chunks[0] = c.subarray(k);
  }
  box.bytes -= n;
  return out;
}
