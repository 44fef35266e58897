// `tcp-diag [port]`: a bare TCP connect with a deadline, to tell "nothing listens" from "the console refuses".
import { connect } from 'node:net';
import { TCP_DIAG_TIMEOUT_MS } from './limits.js';
import type { Sink } from './output.js';

const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there; is the hive running?',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name does not resolve',
  ETIMEDOUT: 'no answer; a firewall may drop the packets',
};

export function tcpDiag(host: string, port: number, sink: Sink, timeoutMs: number = TCP_DIAG_TIMEOUT_MS): Promise<boolean> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      sink.line(`tcp-diag: ${host}:${port} connect failed after ${elapsed()} ms: ETIMEDOUT (${HINTS.ETIMEDOUT})`);
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      sink.line(`tcp-diag: ${host}:${port} connect ok in ${elapsed()} ms (local ${s.localAddress}:${s.localPort})`);
      s.destroy();
      resolve(true);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = e.code ?? 'error';
      sink.line(`tcp-diag: ${host}:${port} connect failed after ${elapsed()} ms: ${code}${HINTS[code] ? ` (${HINTS[code]})` : ''}`);
      resolve(false);
    });
  });
}
