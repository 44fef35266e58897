// The /gpu/bridge/ctl publish channel (spec §11.3): begin / b64: chunks / end, size and SHA-256 checked, status kept, old install kept on error.
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode } from '../bytes/base64.js';
import { toHex, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import { BRIDGE_CHUNK_CHARS_MAX, BRIDGE_PAYLOAD_BYTES_MAX, BRIDGE_STATUS_BYTES_MAX } from './limits.js';
import { decodeSnapshot, type GpuSnapshot } from './snapshot.js';

interface Transfer {
  bytes: number;
  sha256: string;
  /** Decoded chunks so far; their total never passes `bytes` (checked per chunk). */
  chunks: Uint8Array[];
  received: number;
}

const BEGIN = /^begin bytes=(\d{1,7}) sha256=([0-9a-fA-F]{64})$/;

export class BridgeChannel {
  private transfer: Transfer | null = null;
  private statusText = 'state=idle';

  /** `install` applies a decoded snapshot; it is called only when every check passed. */
  constructor(private readonly install: (s: GpuSnapshot) => NineError | null) {}

  status(): string {
    return this.statusText;
  }

  /** A hot reload puts back the last outcome the operator saw (a transfer in progress is not carried). */
  restoreStatus(text: string): void {
    this.statusText = text.startsWith('state=receiving') ? 'state=idle' : text;
  }

  /** Applies the lines of one write in order; the first failure aborts the transfer and answers Invalid. */
  write(text: string): NineError | null {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      const err = this.line(line);
      if (err !== null) return this.fail(err);
    }
    return null;
  }

  private fail(reason: string): NineError {
    this.transfer = null;
    let s = `state=err reason=${reason}`;
    // The status file is bounded; reasons are ASCII, so slicing by characters is slicing by bytes.
    if (utf8Encode(s).length > BRIDGE_STATUS_BYTES_MAX) s = s.slice(0, BRIDGE_STATUS_BYTES_MAX);
    this.statusText = s;
    return new NineError('Invalid', reason);
  }

  /** One line; a problem comes back as its status reason. */
  private line(line: string): string | null {
    if (line.startsWith('begin')) {
      const m = BEGIN.exec(line);
      if (m === null) return 'malformed begin line';
      const bytes = Number(m[1]);
      if (bytes > BRIDGE_PAYLOAD_BYTES_MAX) return `payload of ${bytes} bytes exceeds ${BRIDGE_PAYLOAD_BYTES_MAX}`;
      // A new begin abandons any transfer in progress: the publisher restarted.
      this.transfer = { bytes, sha256: m[2].toLowerCase(), chunks: [], received: 0 };
      this.statusText = `state=receiving bytes=${bytes}`;
      return null;
    }
    if (line.startsWith('b64:')) {
      const t = this.transfer;
      if (t === null) return 'b64 chunk without begin';
      const chunk = line.slice(4);
      if (chunk.length === 0 || chunk.length > BRIDGE_CHUNK_CHARS_MAX || chunk.length % 4 !== 0) {
        return `chunk must be 4..${BRIDGE_CHUNK_CHARS_MAX} characters, a multiple of 4`;
      }
      const b = base64Decode(chunk);
      if (b === null) return 'chunk is not base64';
      if (t.received + b.length > t.bytes) return `byte count mismatch: more than ${t.bytes} bytes`;
      t.chunks.push(b);
      t.received += b.length;
      return null;
    }
    if (line === 'end') {
      const t = this.transfer;
      if (t === null) return 'end without begin';
      if (t.received !== t.bytes) return `byte count mismatch: expected ${t.bytes} got ${t.received}`;
      const payload = new Uint8Array(t.received);
      let at = 0;
      for (const c of t.chunks) {
        payload.set(c, at);
        at += c.length;
      }
      const digest = toHex(sha256(payload));
      if (digest !== t.sha256) return `sha256 mismatch: expected ${t.sha256} got ${digest}`;
      const snap = decodeSnapshot(payload);
      if (snap instanceof NineError) return snap.message;
      const err = this.install(snap);
      if (err !== null) return err.message;
      this.transfer = null;
      this.statusText = `state=ok bytes=${t.bytes} sha256=${digest}`;
      return null;
    }
    return `unknown bridge line ${line.slice(0, 16)}`;
  }
}
