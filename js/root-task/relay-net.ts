// ConsoleNet over the net-console task: root-task keeps the console protocol, the task keeps the sockets.
import type { Caps } from '../caps/index.js';
import { utf8Decode } from '../bytes/utf8.js';
import type { ConsoleNet, ConsoleNetHandlers } from './consoles.js';
import { decodeRelay, encodeRelay, RELAY_ACCEPT, RELAY_CLOSE, RELAY_CLOSED, RELAY_DATA } from './relay-wire.js';
import type { Supervisor } from './supervisor.js';

export class RelayNet implements ConsoleNet {
  private id = 0;
  private ep = -1;

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
    this.caps.channel.send(this.ep, encodeRelay(RELAY_DATA, sock, bytes));
  }

  close(sock: number): void {
    if (this.ep < 0) return;
    try {
      this.caps.channel.send(this.ep, encodeRelay(RELAY_CLOSE, sock));
    } catch {
      // the relay is gone or full; its own close of the socket follows either way
    }
  }

  stop(): void {
    if (this.id) this.supervisor.kill(this.id, 'console stopped', true);
  }
}
