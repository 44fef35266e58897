// The UPDATE console verb (our extension to spec §3): a signed hive image sent in bounded chunks into the inactive A/B slot, then a restart into it.
//
//   UPDATE BEGIN <bytes> <digest>  → OK UPDATE stage=begin slot=<A|B> bytes=<n> offset=<k> chunk_max=<c>
//   UPDATE DATA <offset> <base64>  → OK UPDATE stage=data received=<n>
//   UPDATE COMMIT                  → OK UPDATE stage=commit slot=<A|B> image=<id> restart_ms=<ms>
//   UPDATE ABORT                   → OK UPDATE stage=abort
//   UPDATE STATUS                  → OK UPDATE stage=status running=<A|B|-> target=<A|B|-> staged=<received>/<bytes>|none installed=<0|1>
//
// <digest> is the SHA-256 of the whole image file (hex, 64 chars). BEGIN answers with the offset to
// send from: 0 for a new upload, the bytes already held when the same size and digest were staged
// before (a dropped connection resumes). Queen only; dev and release images alike (unlike RELOAD):
// what guards a release hive is the device's own check of the image's signature, not the console.
import { base64Decode } from '../bytes/base64.js';
import { ReloadRefusal } from './reload.js';
import { splitFirst } from './text.js';

/** Bytes one DATA line carries: the same 168 as RELOAD (224 base64 chars keep the line under 256 bytes). */
export const UPDATE_CHUNK_BYTES_MAX = 168;
/** Hex characters of a SHA-256 digest. */
export const UPDATE_DIGEST_HEX_CHARS = 64;
/**
 * Largest number an UPDATE line may carry (9 digits). Far over any image the device takes, so an
 * oversize BEGIN parses and is refused with `detail=too-big max=<n>` rather than as a parse error.
 */
const UPDATE_NUMBER_MAX = 999_999_999;

export type UpdateOp =
  | { op: 'begin'; bytes: number; digest: string }
  | { op: 'data'; offset: number; chunk: Uint8Array }
  | { op: 'commit' }
  | { op: 'abort' }
  | { op: 'status' };

/** A refused UPDATE: the same line shape as RELOAD's, `ERR UPDATE reason=<cls> detail=<tag>[ k=v][ error=<text>]`. */
export class UpdateRefusal extends ReloadRefusal {}

function parseCount(s: string): number | null {
  if (!/^[0-9]{1,9}$/.test(s)) return null;
  const n = Number(s);
  return n <= UPDATE_NUMBER_MAX ? n : null;
}

/** Parses what follows `UPDATE`: the op, or the argument that is missing or invalid (for ERR PARSE). */
export function parseUpdateArgs(rest: string): UpdateOp | { missing?: string; invalid?: string } {
  const [sub, args] = splitFirst(rest);
  switch (sub.toLowerCase()) {
    case 'begin': {
      const parts = args === '' ? [] : args.split(/\s+/);
      if (parts.length < 1) return { missing: 'bytes' };
      if (parts.length < 2) return { missing: 'digest' };
      if (parts.length > 2) return { invalid: 'digest' };
      const bytes = parseCount(parts[0]);
      if (bytes === null || bytes === 0) return { invalid: 'bytes' };
      const digest = parts[1];
      if (digest.length !== UPDATE_DIGEST_HEX_CHARS || !/^[0-9a-fA-F]+$/.test(digest)) return { invalid: 'digest' };
      return { op: 'begin', bytes, digest: digest.toLowerCase() };
    }
    case 'data': {
      const [offsetText, b64] = splitFirst(args);
      if (offsetText === '') return { missing: 'offset' };
      if (b64 === '') return { missing: 'chunk' };
      const offset = parseCount(offsetText);
      if (offset === null) return { invalid: 'offset' };
      const chunk = base64Decode(b64);
      if (chunk === null || chunk.length === 0 || chunk.length > UPDATE_CHUNK_BYTES_MAX) return { invalid: 'chunk' };
      return { op: 'data', offset, chunk };
    }
    case 'commit':
    case 'abort':
    case 'status':
      return args === '' ? { op: sub.toLowerCase() as 'commit' | 'abort' | 'status' } : { invalid: 'stage' };
    case '':
      return { missing: 'stage' };
    default:
      return { invalid: 'stage' };
  }
}
