// Small UTF-8 text helpers the console needs: byte-bounded truncation and whitespace splitting.
import { utf8Length } from '../bytes/utf8.js';

/**
 * Cuts `s` to at most `maxBytes` of UTF-8 without splitting a code point. Used on reply lines
 * built from provider data, so an outgoing frame can never exceed the client's bound.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + n > maxBytes) break;
    bytes += n;
    i += pair ? 2 : 1;
  }
  return s.slice(0, i);
}

/** Splits at the first run of whitespace: [head, rest with leading whitespace removed]; rest is '' when none. */
export function splitFirst(s: string): [string, string] {
  const m = /\s+/.exec(s);
  if (m === null) return [s, ''];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}
