// net-console: the TCP console's network side as its own task; relays connections to root-task, which speaks the protocol.
//
// Why a task of its own: whatever a hostile network does to this side (floods, half frames, a
// fault in the listener code) costs this task's quota and CPU slice, not root-task's, and the UART
// can kill and restart it (`killtask`, `restart tcp-console`) while the policy and the UART serve on.
import type { Caps, TaskConfig } from '../caps/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import { decodeRelay, encodeRelay, RELAY_ACCEPT, RELAY_CLOSE, RELAY_CLOSED, RELAY_DATA, RELAY_PAUSE, RELAY_RESUME } from './relay-wire.js';

interface NetConsoleArgs {
  host: string;
  port: number;
}

export default function main(caps: Caps, config: TaskConfig): void {
  const args = config.args as NetConsoleArgs;
  const up = (kind: number, sock: number, payload?: Uint8Array): boolean => {
    try {
      caps.channel.send(0, encodeRelay(kind, sock, payload));
      return true;
    } catch (e) {
      // root-task cannot take more now: this connection is dropped rather than queued without bound.
      caps.log.write(`connection ${sock} dropped: ${(e as Error).message}`);
      return false;
    }
  };
  let listener: number;
  try {
    listener = caps.net.listen({ host: args.host, port: args.port }, {
      onAccept: (sock, peer) => {
        if (!up(RELAY_ACCEPT, sock, utf8Encode(peer))) caps.net.close(sock);
      },
      onData: (sock, bytes) => {
        if (!up(RELAY_DATA, sock, bytes)) caps.net.close(sock);
      },
      onClose: (sock) => void up(RELAY_CLOSED, sock),
    });
  } catch (e) {
    caps.channel.send(0, JSON.stringify({ op: 'down', error: (e as Error).message }));
    return;
  }
  caps.channel.onMessage((ep, msg) => {
    if (ep !== 0 || typeof msg === 'string') return;
    const m = decodeRelay(msg);
    if (!m) return caps.log.write('malformed relay message from root-task dropped');
    try {
      if (m.kind === RELAY_DATA) caps.net.write(m.sock, m.payload);
      else if (m.kind === RELAY_CLOSE) caps.net.close(m.sock);
      // root-task's back-pressure: the socket itself stops being read, so nothing queues here either.
      else if (m.kind === RELAY_PAUSE || m.kind === RELAY_RESUME) caps.net.pauseReads(m.sock, m.kind === RELAY_PAUSE);
    } catch (e) {
      // A peer that does not read its replies is cut; root-task hears the close.
      caps.log.write(`connection ${m.sock}: ${(e as Error).message}`);
      caps.net.close(m.sock);
    }
  });
  caps.channel.send(0, JSON.stringify({ op: 'ready', port: caps.net.localPort(listener) }));
}
