// Fuzz target: the UART line discipline (editing, UTF-8, overlong lines) and the request parser on what it yields.
import { LineDiscipline } from '../../console/line.js';
import { ParseError, parseRequest } from '../../console/request.js';
import type { FuzzTarget } from '../target.js';
import { feedSteps, text } from './common.js';

/** Line events one input may complete before the target calls the discipline a runaway. */
const LINE_EVENTS_MAX = 8192;
/** Largest piece of an input handed to the discipline at once (an odd size, so lines straddle pieces). */
const LINE_CHUNK_BYTES_MAX = 37;

export const consoleLine: FuzzTarget = {
  name: 'console-line',
  maxInputBytes: 2048,
  dictionary: ['\r', '\n', '\r\n', '\x7f', '\b', '\x03', '\x15', '\x1b[A', 'AUTH ', 'PING', '\xc3\xa9', '\xe2\x82', '\xf0\x9f\x98\x80'],
  seeds: () => text('help\r\n', 'ping\n', 'cat /proc/boot\r', 'tail /log/queen.log\n', 'echoo\x7f\x7f /log/x hi\n', 'x'.repeat(300) + '\nping\n'),
  run(input) {
    let last = 'none';
    feedSteps(new LineDiscipline(), input, { what: 'line discipline', chunkBytesMax: LINE_CHUNK_BYTES_MAX, eventsMax: LINE_EVENTS_MAX }, (event) => {
      if (event.kind === 'line') {
        const r = parseRequest(event.text);
        last = r instanceof ParseError ? `line:err:${r.code}` : `line:${r.verb}`;
      } else last = event.kind;
    });
    return last;
  },
};
