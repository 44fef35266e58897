// Fuzz target: the UART line discipline (editing, UTF-8, overlong lines) and the request parser on what it yields.
import { LineDiscipline } from '../../console/line.js';
import { CONSOLE_LINE_BYTES_MAX } from '../../console/limits.js';
import { ParseError, parseRequest } from '../../console/request.js';
import type { FuzzTarget } from '../target.js';
import { broken, chunks, text } from './common.js';

/** Line events one input may complete before the target calls the discipline a runaway. */
const LINE_EVENTS_MAX = 8192;

export const consoleLine: FuzzTarget = {
  name: 'console-line',
  maxInputBytes: 2048,
  dictionary: ['\r', '\n', '\r\n', '\x7f', '\b', '\x03', '\x15', '\x1b[A', 'AUTH ', 'PING', '\xc3\xa9', '\xe2\x82', '\xf0\x9f\x98\x80'],
  seeds: () => text('help\r\n', 'ping\n', 'cat /proc/boot\r', 'tail /log/queen.log\n', 'echoo\x7f\x7f /log/x hi\n', 'x'.repeat(300) + '\nping\n'),
  run(input) {
    const ld = new LineDiscipline();
    let events = 0;
    let last = 'none';
    for (const c of chunks(input, 37)) {
      let at = 0;
      while (at < c.length) {
        const step = ld.next(c, at);
        if (step.consumed <= 0 && step.event === null) broken('line discipline made no progress');
        at += step.consumed;
        if (ld.buffered() > CONSOLE_LINE_BYTES_MAX) broken(`line discipline holds ${ld.buffered()} bytes`);
        if (step.event) {
          if (++events > LINE_EVENTS_MAX) broken('more line events than bytes');
          if (step.event.kind === 'line') {
            const r = parseRequest(step.event.text);
            last = r instanceof ParseError ? `line:err:${r.code}` : `line:${r.verb}`;
          } else last = step.event.kind;
        }
      }
    }
    return last;
  },
};
