// Parses and checks the 104-byte header of a `.qbc` bytecode file (and writes one, for tests and tools).
//
// The same refusals as the firmware's loader, so a bundle the image tool packs is one the
// firmware will load on the engine named in its header. Keep in sync with: docs/image-format.md,
// engine/port/qbc.c, engine/cohc/.
import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';

export const QBC_HEADER_BYTES = 104;
export const QBC_MAGIC = 'COHQBC\r\n';
export const QBC_FORMAT_VERSION = 1;
export const QBC_FLAG_STRIP_SOURCE = 1 << 0;
export const QBC_FLAG_STRIP_DEBUG = 1 << 1;
/** Every flag bit a format-1 file may set. */
export const QBC_FLAGS_KNOWN = QBC_FLAG_STRIP_SOURCE | QBC_FLAG_STRIP_DEBUG;
/** Bytes of the NUL-padded ASCII engine version field. */
export const QBC_ENGINE_VERSION_BYTES = 16;
/** Bytes of the engine fingerprint and of the payload SHA-256. */
export const QBC_DIGEST_BYTES = 32;

const OFF_MAGIC = 0;
const OFF_FORMAT = 8;
const OFF_FLAGS = 10;
const OFF_HEADER_BYTES = 12;
const OFF_ENGINE_VERSION = 16;
const OFF_FINGERPRINT = 32;
const OFF_PAYLOAD_BYTES = 64;
const OFF_RESERVED = 68;
const OFF_PAYLOAD_SHA256 = 72;

export interface QbcHeader {
  formatVersion: number;
  flags: number;
  /** e.g. `0.15.1`, without the NUL padding. */
  engineVersion: string;
  /** 64 lowercase hex digits. */
  engineFingerprint: string;
  payloadBytes: number;
  /** 64 lowercase hex digits. */
  payloadSha256: string;
}

/** The header's digest covers header bytes 0..71 and the payload (docs/image-format.md). */
function qbcDigestHex(headerPrefix: Uint8Array, payload: Uint8Array): string {
  return createHash('sha256').update(headerPrefix).update(payload).digest('hex');
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

/** An engine version fits the header field: 1..16 printable ASCII bytes without spaces. */
export function isEngineVersion(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= QBC_ENGINE_VERSION_BYTES && /^[\x21-\x7e]+$/.test(v);
}

export function isHex64(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v);
}

/**
 * Parses a whole `.qbc` file and checks everything the loader checks that does not need the
 * firmware's own engine: length, magic, format, flags, header size, reserved, version field
 * padding and the payload's SHA-256. `what` names the file in every message.
 */
export function parseQbc(b: Uint8Array, what: string): QbcHeader {
  const fail = (m: string): never => {
    throw new ImageError('qbc', `${what}: ${m}`);
  };
  if (b.length < QBC_HEADER_BYTES) fail(`${b.length} bytes, shorter than the ${QBC_HEADER_BYTES}-byte .qbc header`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < QBC_MAGIC.length; i++) {
    if (b[OFF_MAGIC + i] !== QBC_MAGIC.charCodeAt(i)) fail('bad magic, not a .qbc file (expected "COHQBC\\r\\n")');
  }
  const formatVersion = dv.getUint16(OFF_FORMAT, true);
  if (formatVersion !== QBC_FORMAT_VERSION) fail(`format_version ${formatVersion}, this tool reads ${QBC_FORMAT_VERSION}`);
  const flags = dv.getUint16(OFF_FLAGS, true);
  if ((flags & ~QBC_FLAGS_KNOWN) !== 0) fail(`flags 0x${flags.toString(16)} set unknown bits (known: 0x${QBC_FLAGS_KNOWN.toString(16)})`);
  const headerBytes = dv.getUint32(OFF_HEADER_BYTES, true);
  if (headerBytes !== QBC_HEADER_BYTES) fail(`header_bytes ${headerBytes}, must be ${QBC_HEADER_BYTES}`);

  // NUL-padded: printable bytes, then only NUL; a NUL followed by text would compare differently in C.
  let engineVersion = '';
  let ended = false;
  for (let i = 0; i < QBC_ENGINE_VERSION_BYTES; i++) {
    const c = b[OFF_ENGINE_VERSION + i];
    if (c === 0) ended = true;
    else if (ended || c < 0x21 || c > 0x7e) fail('engine_version is not printable ASCII followed only by NUL padding');
    else engineVersion += String.fromCharCode(c);
  }
  if (engineVersion.length === 0) fail('engine_version is empty');

  const engineFingerprint = Buffer.from(b.subarray(OFF_FINGERPRINT, OFF_FINGERPRINT + QBC_DIGEST_BYTES)).toString('hex');
  const payloadBytes = dv.getUint32(OFF_PAYLOAD_BYTES, true);
  const reserved = dv.getUint32(OFF_RESERVED, true);
  if (reserved !== 0) fail(`reserved field is ${reserved}, must be 0`);
  const actual = b.length - QBC_HEADER_BYTES;
  if (actual < payloadBytes) fail(`truncated: payload_bytes is ${payloadBytes} but ${actual} bytes follow the header`);
  if (actual > payloadBytes) fail(`${actual - payloadBytes} trailing bytes after the ${payloadBytes}-byte payload`);
  const payloadSha256 = Buffer.from(b.subarray(OFF_PAYLOAD_SHA256, OFF_PAYLOAD_SHA256 + QBC_DIGEST_BYTES)).toString('hex');
  if (qbcDigestHex(b.subarray(0, OFF_PAYLOAD_SHA256), b.subarray(QBC_HEADER_BYTES)) !== payloadSha256) {
    fail('SHA-256 of header and payload does not match the sha256 field (corrupted)');
  }
  return { formatVersion, flags, engineVersion, engineFingerprint, payloadBytes, payloadSha256 };
}

export interface QbcWriteOptions {
  engineVersion: string;
  /** 64 hex digits. */
  engineFingerprint: string;
  flags?: number;
}

/** Wraps a payload in a format-1 header, as cohc does. Used by tests and by Node-side tools. */
export function encodeQbc(payload: Uint8Array, opts: QbcWriteOptions): Uint8Array {
  if (!isEngineVersion(opts.engineVersion)) throw new ImageError('qbc', `engine version ${JSON.stringify(opts.engineVersion)} must be 1..${QBC_ENGINE_VERSION_BYTES} printable ASCII bytes`);
  const fp = opts.engineFingerprint.toLowerCase();
  if (!isHex64(fp)) throw new ImageError('qbc', 'engine fingerprint must be 64 hex digits');
  const flags = opts.flags ?? QBC_FLAG_STRIP_SOURCE;
  const out = new Uint8Array(QBC_HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < QBC_MAGIC.length; i++) out[OFF_MAGIC + i] = QBC_MAGIC.charCodeAt(i);
  dv.setUint16(OFF_FORMAT, QBC_FORMAT_VERSION, true);
  dv.setUint16(OFF_FLAGS, flags, true);
  dv.setUint32(OFF_HEADER_BYTES, QBC_HEADER_BYTES, true);
  for (let i = 0; i < opts.engineVersion.length; i++) out[OFF_ENGINE_VERSION + i] = opts.engineVersion.charCodeAt(i);
  out.set(Buffer.from(fp, 'hex'), OFF_FINGERPRINT);
  dv.setUint32(OFF_PAYLOAD_BYTES, payload.length, true);
  out.set(payload, QBC_HEADER_BYTES);
  out.set(Buffer.from(qbcDigestHex(out.subarray(0, OFF_PAYLOAD_SHA256), payload), 'hex'), OFF_PAYLOAD_SHA256);
  return out;
}
