// Console request parsing (spec §3.1): verb and arguments with their byte limits, or the exact ERR PARSE refusal (§3.2).
import { utf8Length } from '../bytes/utf8.js';
import {
  CACHELOG_DEFAULT_LINES, CACHELOG_LINES_MAX, CONSOLE_LINE_BYTES_MAX, ECHO_PAYLOAD_BYTES_MAX, PATH_BYTES_MAX, ROLE_BYTES_MAX,
  SPAWN_JSON_BYTES_MAX, TICKET_BYTES_MAX, WORKER_ID_BYTES_MAX,
} from './limits.js';
import { parseReloadArgs, type ReloadOp } from './reload.js';
import { parseUpdateArgs, type UpdateOp } from './update.js';
import { splitFirst } from './text.js';

/** Verbs taking no argument (any text after them is ignored, as the reference does). */
export const PLAIN_VERBS = ['help', 'ping', 'log', 'quit', 'nettest', 'netstats', 'bi', 'caps', 'mem'] as const;
export type PlainVerb = (typeof PLAIN_VERBS)[number];
export type PathVerb = 'tail' | 'cat' | 'ls';
/** `reload` (dev images, js/console/reload.ts) and `update` (js/console/update.ts) are ours, not the reference's. */
export type ConsoleVerb = PlainVerb | PathVerb | 'test' | 'cachelog' | 'echo' | 'attach' | 'spawn' | 'kill' | 'reload' | 'update';

/** ACK label each verb answers with (spec §3.1). */
export const ACK_LABEL: Readonly<Record<ConsoleVerb, string>> = {
  help: 'HELP', ping: 'PING', log: 'LOG', quit: 'QUIT', nettest: 'NETTEST', netstats: 'NETSTATS',
  bi: 'BOOTINFO', caps: 'CAPS', mem: 'MEM', test: 'TEST', cachelog: 'CACHELOG',
  tail: 'TAIL', cat: 'CAT', ls: 'LS', echo: 'ECHO', attach: 'ATTACH', spawn: 'SPAWN', kill: 'KILL',
  reload: 'RELOAD', update: 'UPDATE',
};

export type ConsoleRequest =
  | { verb: PlainVerb | 'test' }
  | { verb: 'cachelog'; count: number }
  | { verb: PathVerb; path: string }
  | { verb: 'echo'; path: string; payload: string }
  /** `role` is the label as typed (role rules are ATTACH's, §3.4); `ticket` null when absent. */
  | { verb: 'attach'; role: string; ticket: string | null }
  | { verb: 'spawn'; json: string }
  | { verb: 'kill'; workerId: string }
  | { verb: 'reload'; op: ReloadOp }
  | { verb: 'update'; op: UpdateOp }
  /** A verb the caller added (UART recovery verbs); `name` lowercase, `rest` the trimmed rest of the line. */
  | { verb: 'extra'; name: string; rest: string };

export type ParseErrorCode = 'empty' | 'unsupported' | 'missing-argument' | 'argument-too-long' | 'invalid-value' | 'line-too-long';

/** A refused line. `argument` names the argument for the three argument codes (wire names: path, payload, role, ticket, worker, count, test). */
export class ParseError {
  constructor(
    readonly code: ParseErrorCode,
    readonly argument: string = '',
  ) {}

  /** The §3.2 detail message. */
  get message(): string {
    switch (this.code) {
      case 'empty':
        return 'empty command';
      case 'unsupported':
        return 'unsupported console command';
      case 'missing-argument':
        return `missing required argument: ${this.argument}`;
      case 'argument-too-long':
        return `argument ${this.argument} exceeds allowed length`;
      case 'invalid-value':
        return `invalid value for argument ${this.argument}`;
      case 'line-too-long':
        return 'console line exceeded maximum length';
    }
  }

  /** The whole reply line. */
  line(): string {
    return `ERR PARSE reason=policy detail=${this.message}`;
  }

  toString(): string {
    return this.message;
  }
}

const VERBS: ReadonlySet<string> = new Set<string>([...PLAIN_VERBS, 'test', 'cachelog', 'tail', 'cat', 'ls', 'echo', 'attach', 'spawn', 'kill', 'reload', 'update']);

function isVerb(s: string): s is ConsoleVerb {
  return VERBS.has(s);
}

/** u16 in decimal, as Rust's `u16::from_str` takes it (an optional leading `+`). */
function parseU16(s: string): number | null {
  if (!/^\+?[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n <= CACHELOG_LINES_MAX ? n : null;
}

function tooLong(value: string, maxBytes: number): boolean {
  return utf8Length(value) > maxBytes;
}

/** Parses one console line (without its newline). `extraVerbs` (lowercase) never shadow a §3.1 verb. */
export function parseRequest(line: string, extraVerbs?: ReadonlySet<string>): ConsoleRequest | ParseError {
  if (tooLong(line, CONSOLE_LINE_BYTES_MAX)) return new ParseError('line-too-long');
  const trimmed = line.trim();
  if (trimmed === '') return new ParseError('empty');
  const [verbText, rest] = splitFirst(trimmed);
  const verb = verbText.toLowerCase();
  if (!isVerb(verb)) {
    return extraVerbs !== undefined && extraVerbs.has(verb) ? { verb: 'extra', name: verb, rest } : new ParseError('unsupported');
  }
  switch (verb) {
    case 'test':
      return rest === '' ? { verb } : new ParseError('invalid-value', 'test');
    case 'cachelog': {
      if (rest === '') return { verb, count: CACHELOG_DEFAULT_LINES };
      const count = parseU16(splitFirst(rest)[0]);
      return count === null ? new ParseError('invalid-value', 'count') : { verb, count };
    }
    case 'tail':
    case 'cat':
    case 'ls': {
      if (rest === '') return new ParseError('missing-argument', 'path');
      const path = splitFirst(rest)[0];
      return tooLong(path, PATH_BYTES_MAX) ? new ParseError('argument-too-long', 'path') : { verb, path };
    }
    case 'echo': {
      if (rest === '') return new ParseError('missing-argument', 'path');
      const [path, payload] = splitFirst(rest);
      if (payload === '') return new ParseError('missing-argument', 'payload');
      if (tooLong(path, PATH_BYTES_MAX)) return new ParseError('argument-too-long', 'path');
      if (tooLong(payload, ECHO_PAYLOAD_BYTES_MAX)) return new ParseError('argument-too-long', 'payload');
      return { verb, path, payload };
    }
    case 'attach': {
      if (rest === '') return new ParseError('missing-argument', 'role');
      const [role, ticket] = splitFirst(rest);
      if (tooLong(role, ROLE_BYTES_MAX)) return new ParseError('argument-too-long', 'role');
      if (tooLong(ticket, TICKET_BYTES_MAX)) return new ParseError('argument-too-long', 'ticket');
      return { verb, role, ticket: ticket === '' ? null : ticket };
    }
    case 'spawn':
      if (rest === '') return new ParseError('missing-argument', 'payload');
      return tooLong(rest, SPAWN_JSON_BYTES_MAX) ? new ParseError('argument-too-long', 'payload') : { verb, json: rest };
    case 'kill': {
      if (rest === '') return new ParseError('missing-argument', 'worker');
      const workerId = splitFirst(rest)[0];
      return tooLong(workerId, WORKER_ID_BYTES_MAX) ? new ParseError('argument-too-long', 'worker') : { verb, workerId };
    }
    case 'reload': {
      const r = parseReloadArgs(rest);
      if ('op' in r) return { verb, op: r };
      return r.missing !== undefined ? new ParseError('missing-argument', r.missing) : new ParseError('invalid-value', r.invalid ?? 'stage');
    }
    case 'update': {
      const r = parseUpdateArgs(rest);
      if ('op' in r) return { verb, op: r };
      return r.missing !== undefined ? new ParseError('missing-argument', r.missing) : new ParseError('invalid-value', r.invalid ?? 'stage');
    }
    default:
      return { verb };
  }
}
