// Fuzz target: console request lines (verbs, arguments, their bounds) as the TCP console and the UART parse them.
import { utf8Decode } from '../../bytes/utf8.js';
import { utf8Length } from '../../bytes/utf8.js';
import { PATH_BYTES_MAX, ECHO_PAYLOAD_BYTES_MAX, TICKET_BYTES_MAX, ROLE_BYTES_MAX, SPAWN_JSON_BYTES_MAX, WORKER_ID_BYTES_MAX } from '../../console/limits.js';
import { ParseError, parseRequest } from '../../console/request.js';
import type { FuzzTarget } from '../target.js';
import { broken, text } from './common.js';

/** What the UART adds to the TCP verbs (recovery verbs), so the extra-verb path is fuzzed too. */
const EXTRA_VERBS: ReadonlySet<string> = new Set(['status', 'restart', 'slots']);

export const consoleRequest: FuzzTarget = {
  name: 'console-request',
  maxInputBytes: 512,
  dictionary: ['ATTACH', 'AUTH', 'TAIL', 'CAT', 'LS', 'ECHO', 'SPAWN', 'KILL', 'RELOAD', 'CACHELOG', 'TEST', 'PING', 'queen',
    'worker-heartbeat', 'cohesix-ticket-', '/log/queen.log', '/queen/ctl', '{"spawn":"heartbeat","ticks":1}', ' ', '\t', '65535', '-1', 'status'],
  seeds: () => text('PING', 'ATTACH queen', 'ATTACH worker-heartbeat cohesix-ticket-00.00', 'TAIL /log/queen.log', 'CAT /proc/boot',
    'ECHO /log/queen.log hello world', 'SPAWN {"spawn":"heartbeat","ticks":3}', 'KILL worker-1', 'CACHELOG 10', 'RELOAD status',
    'LS /', 'TEST quick', 'status', 'help'),
  run(input) {
    const line = utf8Decode(input);
    if (line === null) return 'not-utf8';
    const r = parseRequest(line, EXTRA_VERBS);
    if (r instanceof ParseError) return `err:${r.code}:${r.argument}`;
    // What the parser lets through stays inside the bounds the handlers rely on.
    const over = (s: string, max: number, what: string) => {
      if (utf8Length(s) > max) broken(`${r.verb} ${what} of ${utf8Length(s)} bytes passed (bound ${max})`);
    };
    if ('path' in r) over(r.path, PATH_BYTES_MAX, 'path');
    if (r.verb === 'echo') over(r.payload, ECHO_PAYLOAD_BYTES_MAX, 'payload');
    if (r.verb === 'attach') {
      over(r.role, ROLE_BYTES_MAX, 'role');
      if (r.ticket !== null) over(r.ticket, TICKET_BYTES_MAX, 'ticket');
    }
    if (r.verb === 'spawn') over(r.json, SPAWN_JSON_BYTES_MAX, 'json');
    if (r.verb === 'kill') over(r.workerId, WORKER_ID_BYTES_MAX, 'worker');
    return `ok:${r.verb}`;
  },
};
