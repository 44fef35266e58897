// Parses JSON strictly: no duplicate keys, bounded nesting, strict UTF-8 — so every reader of a manifest sees the same values.
//
// JSON.parse keeps the last of two equal keys while many C parsers keep the first; a manifest
// that says `"arena_bytes"` twice could then mean two things. We refuse it instead.
import { ImageError } from './errors.js';

/** Deepest nesting of arrays/objects accepted (a task's `config` included); keeps every reader's recursion bounded. */
export const JSON_DEPTH_MAX = 32;

/** Decodes strict UTF-8 (no BOM stripping, no replacement characters); null if the bytes are not UTF-8. */
export function decodeUtf8Strict(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return null;
  }
}

/** `what` prefixes every message, e.g. `manifest` or `manifest boards/host/manifest.json`. */
export function parseStrictJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ImageError('manifest', `${what}: not valid JSON (${(e as Error).message})`);
  }
  // The text is now known to be valid JSON, so the walk below only has to find keys and depth.
  const t = text;
  let i = 0;
  const ws = (): void => {
    while (i < t.length && (t[i] === ' ' || t[i] === '\t' || t[i] === '\n' || t[i] === '\r')) i++;
  };
  const str = (): string => {
    const start = i++;
    while (t[i] !== '"') i += t[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(t.slice(start, i)) as string;
  };
  const walk = (depth: number, path: string): void => {
    ws();
    const c = t[i];
    if (c === '{' || c === '[') {
      if (depth >= JSON_DEPTH_MAX) throw new ImageError('manifest', `${what}: ${path || 'top level'} nests deeper than JSON_DEPTH_MAX (${JSON_DEPTH_MAX})`);
      const close = c === '{' ? '}' : ']';
      const keys = new Set<string>();
      i++;
      ws();
      if (t[i] === close) {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        ws();
        let sub: string;
        if (c === '{') {
          const k = str();
          if (keys.has(k)) throw new ImageError('manifest', `${what}: duplicate key ${JSON.stringify(k)} in ${path || 'the top-level object'}`);
          keys.add(k);
          sub = path ? `${path}.${k}` : k;
          ws();
          i++; // ':'
        } else sub = `${path}[${index}]`;
        walk(depth + 1, sub);
        ws();
        if (t[i++] === close) return;
      }
    } else if (c === '"') str();
    else while (i < t.length && !',]} \t\n\r'.includes(t[i])) i++;
  };
  walk(0, '');
  return value;
}
