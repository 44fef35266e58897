// A strict parser for the small TOML subset ticket configs use: tables, arrays of tables, key = string | integer | boolean | one-line array.
import { CohshError } from './errors.js';

export type TomlValue = string | bigint | boolean | TomlValue[];
export type TomlTable = Map<string, TomlValue>;

export interface TomlDoc {
  /** `[name]` tables (and the root, named ''). */
  tables: Map<string, TomlTable>;
  /** `[[name]]` arrays of tables. */
  arrays: Map<string, TomlTable[]>;
}

class TomlFault {
  constructor(readonly message: string) {}
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const TABLE_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** Parses one value at `s[i]`; returns it and the index after it. */
function parseValue(s: string, i: number): [TomlValue, number] {
  const c = s[i];
  if (c === '"') {
    let out = '';
    let j = i + 1;
    while (j < s.length && s[j] !== '"') {
      if (s[j] === '\\') {
        const e = s[j + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          j += 2;
        } else if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = s.slice(j + 2, j + 2 + len);
          if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) throw new TomlFault('bad unicode escape');
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new TomlFault('bad unicode escape');
          out += String.fromCodePoint(cp);
          j += 2 + len;
        } else throw new TomlFault(`bad escape \\${e ?? ''}`);
      } else {
        if (s.charCodeAt(j) < 0x20 && s[j] !== '\t') throw new TomlFault('control character in string');
        out += s[j++];
      }
    }
    if (j >= s.length) throw new TomlFault('unterminated string (multi-line strings are not supported)');
    return [out, j + 1];
  }
  if (c === "'") {
    const end = s.indexOf("'", i + 1);
    if (end < 0) throw new TomlFault('unterminated literal string');
    return [s.slice(i + 1, end), end + 1];
  }
  if (c === '[') {
    const arr: TomlValue[] = [];
    let j = skipWs(s, i + 1);
    if (s[j] === ']') return [arr, j + 1];
    for (;;) {
      const [v, k] = parseValue(s, j);
      arr.push(v);
      j = skipWs(s, k);
      if (s[j] === ',') {
        j = skipWs(s, j + 1);
        if (s[j] === ']') return [arr, j + 1];
        continue;
      }
      if (s[j] === ']') return [arr, j + 1];
      throw new TomlFault('expected , or ] in array');
    }
  }
  const m = /^(true|false|[+-]?(?:0|[1-9](?:_?[0-9])*))(?=[\s,\]#]|$)/.exec(s.slice(i));
  if (m === null) throw new TomlFault(`unsupported value '${s.slice(i).split(/[\s,\]]/)[0]}' (strings, integers, booleans and one-line arrays only)`);
  const tok = m[1];
  if (tok === 'true' || tok === 'false') return [tok === 'true', i + tok.length];
  return [BigInt(tok.replace(/_/g, '')), i + tok.length];
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** Parses `text`; errors name `<file>:<line>`. */
export function parseTomlSubset(text: string, file: string): TomlDoc | CohshError {
  const doc: TomlDoc = { tables: new Map([['', new Map()]]), arrays: new Map() };
  let current = doc.tables.get('') as TomlTable;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    try {
      let i = skipWs(raw, 0);
      if (i >= raw.length || raw[i] === '#') continue;
      if (raw.startsWith('[[', i)) {
        const end = raw.indexOf(']]', i);
        if (end < 0) throw new TomlFault('unterminated [[table]] header');
        const name = raw.slice(i + 2, end).trim();
        if (!TABLE_NAME.test(name)) throw new TomlFault(`bad table name '${name}'`);
        if (doc.tables.has(name)) throw new TomlFault(`'${name}' is already a table`);
        current = new Map();
        const list = doc.arrays.get(name) ?? [];
        list.push(current);
        doc.arrays.set(name, list);
        i = end + 2;
      } else if (raw[i] === '[') {
        const end = raw.indexOf(']', i);
        if (end < 0) throw new TomlFault('unterminated [table] header');
        const name = raw.slice(i + 1, end).trim();
        if (!TABLE_NAME.test(name)) throw new TomlFault(`bad table name '${name}'`);
        if (doc.tables.has(name) || doc.arrays.has(name)) throw new TomlFault(`table '${name}' defined twice`);
        current = new Map();
        doc.tables.set(name, current);
        i = end + 1;
      } else {
        const eq = raw.indexOf('=', i);
        if (eq < 0) throw new TomlFault('expected key = value');
        const key = raw.slice(i, eq).trim();
        if (!BARE_KEY.test(key)) throw new TomlFault(`bad key '${key}' (bare keys only)`);
        if (current.has(key)) throw new TomlFault(`duplicate key '${key}'`);
        const [v, k] = parseValue(raw, skipWs(raw, eq + 1));
        current.set(key, v);
        i = k;
      }
      i = skipWs(raw, i);
      if (i < raw.length && raw[i] !== '#') throw new TomlFault(`unexpected text after value: '${raw.slice(i)}'`);
    } catch (e) {
      if (e instanceof TomlFault) return new CohshError('ticket', `${file}:${n + 1}: ${e.message}`);
      throw e;
    }
  }
  return doc;
}
