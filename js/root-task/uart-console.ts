// The UART recovery console: `cohesix> ` prompt, line editing, and verbs that work when the network does not.
import type { Caps } from '../caps/index.js';
import type { Supervisor } from './supervisor.js';
import type { TcpConsole } from './tcp-console.js';

export const UART_PROMPT = 'cohesix> ';
export const UART_LINE_BYTES_MAX = 256;

export function startUartConsole(caps: Caps, supervisor: Supervisor, tcp: TcpConsole): void {
  let line = '';
  let overflow = false;
  const out = (s: string): void => caps.console.write(s);

  const run = (raw: string): void => {
    const text = raw.trim();
    const verb = text.split(/\s+/, 1)[0].toLowerCase();
    const rest = text.slice(verb.length).trim();
    if (verb === '') return;
    if (verb === 'ping') {
      out('OK PING reply=pong\r\nPONG\r\n');
    } else if (verb === 'help') {
      out('commands: help ping tasks kill <id> quit\r\nOK HELP\r\n');
    } else if (verb === 'tasks') {
      for (const t of supervisor.tasks()) {
        out(`[tasks] id=${t.id} label=${t.label} task=${t.task} state=${t.state} arena=${t.arenaUsedBytes}/${t.arenaBytes} peak=${t.arenaPeakBytes} cpu_ms=${Math.round(t.cpuMs)}${t.fault ? ` fault=${t.fault}` : ''}\r\n`);
      }
      out(`[tasks] console sessions=${tcp.sessions()} port=${tcp.port}\r\nOK TASKS\r\n`);
    } else if (verb === 'kill') {
      const id = Number(rest);
      try {
        supervisor.kill(id, 'killed from the UART console');
        out(`OK KILL id=${id}\r\n`);
      } catch (e) {
        out(`ERR KILL reason=policy detail=invalid-path error=${(e as Error).message}\r\n`);
      }
    } else if (verb === 'quit') {
      out('OK QUIT\r\n');
    } else {
      out('ERR PARSE reason=policy detail=unsupported console command\r\n');
    }
  };

  caps.console.onInput((bytes) => {
    for (const b of bytes) {
      if (b === 0x0d) continue; // \r ignored
      if (b === 0x0a) {
        out('\r\n');
        if (overflow) out('ERR PARSE reason=policy detail=console line exceeded maximum length\r\n');
        else run(line);
        line = '';
        overflow = false;
        out(UART_PROMPT);
      } else if (b === 0x08 || b === 0x7f) {
        if (line.length) {
          line = line.slice(0, -1);
          out('\b \b');
        }
      } else if (b >= 0x20 && b < 0x7f) {
        if (line.length >= UART_LINE_BYTES_MAX) overflow = true;
        else {
          line += String.fromCharCode(b);
          out(String.fromCharCode(b));
        }
      }
      // other control characters are dropped
    }
  });
  out(UART_PROMPT);
}
