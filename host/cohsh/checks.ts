// Client-side checks of spec §4.3 before anything goes on the wire: paths, JSON-safe values, echo syntax, roles, tickets.
import { parseRole, type TicketRole } from '../../js/tickets/claims.js';
import { checkError, type CohshError } from './errors.js';
import { PATH_COMPONENTS_MAX } from './limits.js';

/**
 * An absolute path with no `.`/`..`/empty components and no NUL, ≤ 8 components. One trailing
 * slash is dropped (`/proc/` → `/proc`), so completion output can be typed back.
 */
export function checkPath(path: string): string | CohshError {
  if (path.includes('\0')) return checkError(`invalid path '${path.replace(/\0/g, '\\0')}': contains NUL`);
  if (!path.startsWith('/')) return checkError(`invalid path '${path}': must be absolute`);
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === '/') return p;
  const parts = p.slice(1).split('/');
  for (const c of parts) {
    if (c === '') return checkError(`invalid path '${path}': empty component`);
    if (c === '.' || c === '..') return checkError(`invalid path '${path}': '${c}' is not allowed`);
  }
  if (parts.length > PATH_COMPONENTS_MAX) return checkError(`invalid path '${path}': more than ${PATH_COMPONENTS_MAX} components`);
  return p;
}

/** A value that goes into JSON unescaped: no `"`, `\` or control characters (§4.3). */
export function checkJsonValue(name: string, value: string): string | CohshError {
  if (value === '') return checkError(`invalid value for ${name}: empty`);
  // eslint-disable-next-line no-control-regex
  if (/["\\\u0000-\u001f\u007f]/.test(value)) return checkError(`invalid value for ${name}: contains a quote, backslash or control character`);
  return value;
}

export const ECHO_SYNTAX_MESSAGE = 'echo requires syntax: echo <text> > <path>';

/** `echo <text> > <path>`: the last ` > ` splits; outer matching quotes are stripped; text stays one line. */
export function parseEchoArgs(rest: string): { text: string; path: string } | CohshError {
  const m = /^(.*\S)\s+>\s*(\S+)\s*$/s.exec(rest) ?? /^()>\s*(\S+)\s*$/.exec(rest);
  if (m === null) return checkError(ECHO_SYNTAX_MESSAGE);
  let text = m[1].trim();
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text[text.length - 1] === text[0]) text = text.slice(1, -1);
  if (text === '') return checkError(ECHO_SYNTAX_MESSAGE);
  if (/[\r\n]/.test(text)) return checkError('echo text must be a single line');
  const path = checkPath(m[2]);
  if (typeof path !== 'string') return path;
  return { text, path };
}

/** Role labels cohsh accepts (§1): the ticket roles plus `worker` for worker-heartbeat. */
export function resolveRole(label: string): TicketRole | null {
  return label.toLowerCase() === 'worker' ? 'worker-heartbeat' : parseRole(label);
}

/** How `attached session <id> as <Role>` names a role (the reference prints its Rust enum names). */
export function roleDisplayName(role: TicketRole): string {
  return role.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** Splits a command line into words on whitespace (no quoting: the wire has none either). */
export function words(line: string): string[] {
  const t = line.trim();
  return t === '' ? [] : t.split(/\s+/);
}
