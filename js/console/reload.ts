// The RELOAD console verb (our dev-image extension to spec §3): bytecode sent in bounded chunks, then swapped in by root-task.
//
//   RELOAD BEGIN <target> <bytes> <digest>  → OK RELOAD stage=begin target=<t> bytes=<n> chunk_max=<c>
//   RELOAD DATA <offset> <base64>           → OK RELOAD stage=data received=<n>
//   RELOAD COMMIT                           → OK RELOAD stage=commit target=<t> tasks=<n> restored=<k> ms=<x>
//   RELOAD ABORT                            → OK RELOAD stage=abort
//
// <target> is a task label (`worker-3`) or a manifest task name (every running instance, and the
// bundle later spawns use). <digest> is the SHA-256 a .qbc header carries (hex, 64 chars): the
// firmware checks it against the bytes and the engine fingerprint before anything runs, so the
// file is its own checksum. Every line fits the console's 256-byte bound.
import { base64Decode } from '../bytes/base64.js';
import { utf8Length } from '../bytes/utf8.js';
import type { RefusalClass } from './reply.js';
import { splitFirst } from './text.js';

/** Bytes of bytecode one DATA line carries (224 base64 chars: the line stays under 256 bytes). */
export const RELOAD_CHUNK_BYTES_MAX = 168;
/** A target names a task label or manifest task (31 bytes, the firmware's name bound). */
export const RELOAD_TARGET_BYTES_MAX = 31;
/** Hex characters of a SHA-256 digest. */
export const RELOAD_DIGEST_HEX_CHARS = 64;
/** Largest offset or size a RELOAD line may name (16 MiB, far over any bound that applies). */
const RELOAD_NUMBER_MAX = 16 * 1024 * 1024;

export type ReloadOp =
  | { op: 'begin'; target: string; bytes: number; digest: string }
  | { op: 'data'; offset: number; chunk: Uint8Array }
  | { op: 'commit' }
  | { op: 'abort' };

/** A refused RELOAD: `ERR RELOAD reason=<cls> detail=<detail>[ <k=v>...][ error=<text>]`. */
export class ReloadRefusal {
  constructor(
    readonly cls: RefusalClass,
    /** A stable tag: release-image, no-staged-reload, busy, too-big, out-of-order, ... */
    readonly detail: string,
    /** Extra k=v tokens (expected=<n>). */
    readonly tokens: string = '',
    /** Free text for the operator; last on the line. */
    readonly error: string = '',
  ) {}

  /** The tokens after `reason=<cls>`. */
  wire(): string {
    const t = this.tokens === '' ? '' : ` ${this.tokens}`;
    const e = this.error === '' ? '' : ` error=${this.error.replace(/[\r\n]+/g, ' ')}`;
    return `detail=${this.detail}${t}${e}`;
  }
}

function parseCount(s: string): number | null {
  if (!/^[0-9]{1,9}$/.test(s)) return null;
  const n = Number(s);
  return n <= RELOAD_NUMBER_MAX ? n : null;
}

/**
 * Parses what follows `RELOAD`. On a bad line returns the argument name that is wrong (the
 * caller makes the §3.2 ERR PARSE line of it) and whether it was missing or invalid.
 */
export function parseReloadArgs(rest: string): ReloadOp | { missing?: string; invalid?: string } {
  const [sub, args] = splitFirst(rest);
  switch (sub.toLowerCase()) {
    case 'begin': {
      const parts = args === '' ? [] : args.split(/\s+/);
      if (parts.length < 1) return { missing: 'target' };
      if (parts.length < 2) return { missing: 'bytes' };
      if (parts.length < 3) return { missing: 'digest' };
      if (parts.length > 3) return { invalid: 'digest' };
      const [target, bytesText, digest] = parts;
      if (utf8Length(target) > RELOAD_TARGET_BYTES_MAX || !/^[A-Za-z0-9._-]+$/.test(target)) return { invalid: 'target' };
      const bytes = parseCount(bytesText);
      if (bytes === null || bytes === 0) return { invalid: 'bytes' };
      if (digest.length !== RELOAD_DIGEST_HEX_CHARS || !/^[0-9a-fA-F]+$/.test(digest)) return { invalid: 'digest' };
      return { op: 'begin', target, bytes, digest: digest.toLowerCase() };
    }
    case 'data': {
      const [offsetText, b64] = splitFirst(args);
      if (offsetText === '') return { missing: 'offset' };
      if (b64 === '') return { missing: 'chunk' };
      const offset = parseCount(offsetText);
      if (offset === null) return { invalid: 'offset' };
      const chunk = base64Decode(b64);
      if (chunk === null || chunk.length === 0 || chunk.length > RELOAD_CHUNK_BYTES_MAX) return { invalid: 'chunk' };
      return { op: 'data', offset, chunk };
    }
    case 'commit':
      return args === '' ? { op: 'commit' } : { invalid: 'stage' };
    case 'abort':
      return args === '' ? { op: 'abort' } : { invalid: 'stage' };
    case '':
      return { missing: 'stage' };
    default:
      return { invalid: 'stage' };
  }
}
