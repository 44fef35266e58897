// `cohsh reload <target> <file.qbc>`: checks a bytecode file locally, then sends it over the console in RELOAD chunks (dev images).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { base64Encode } from '../../js/bytes/base64.js';
import { RELOAD_CHUNK_BYTES_MAX, RELOAD_TARGET_BYTES_MAX } from '../../js/console/reload.js';
import { RELOAD_STAGE_BYTES_MAX } from '../../js/root-task/reload.js';
import type { ConsoleClient } from './client.js';
import { CohshError } from './errors.js';
import type { Sink } from './output.js';
import { QBC_DIGEST_BYTES, QBC_HEADER_BYTES, QBC_MAGIC } from '../image/qbc.js';

/**
 * DATA lines in flight. The console's 8-line inbound queue (spec §15) holds lines only while a
 * command waits on an answer, and DATA is answered as it arrives, so the window is bounded by the
 * relay's channel inbox instead (64 KiB: 32 lines are ~8 KiB). Measured: 8 → 32 cut a NineDoor
 * upload from 164 to 126 ms; 64 gained nothing (the firmware's per-line work is the floor).
 * A line the hive does drop shows up as `out-of-order`, never as a corrupt file.
 */
export const RELOAD_PIPELINE_WINDOW = 32;
/** The digest closes the header (docs/image-format.md) and covers header[0..72) and the payload. */
const QBC_DIGEST_OFFSET = QBC_HEADER_BYTES - QBC_DIGEST_BYTES;
/** The printable part of the magic: a flipped \r or \n is caught as corrupt by the digest. */
const QBC_MAGIC_TEXT = QBC_MAGIC.trimEnd();

/** The file's bytes and its header digest (hex), or why it is not a sound .qbc file. */
export function readQbc(path: string): { bytes: Uint8Array; digest: string } | CohshError {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    return new CohshError('check', `reload: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > RELOAD_STAGE_BYTES_MAX) return new CohshError('check', `reload: ${path} is ${size} bytes; the hive stages at most ${RELOAD_STAGE_BYTES_MAX}`);
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length <= QBC_HEADER_BYTES || Buffer.from(bytes.subarray(0, QBC_MAGIC_TEXT.length)).toString('latin1') !== QBC_MAGIC_TEXT) {
    return new CohshError('check', `reload: ${path} is not a .qbc bytecode file (build one with cohc)`);
  }
  const digest = Buffer.from(bytes.subarray(QBC_DIGEST_OFFSET, QBC_HEADER_BYTES)).toString('hex');
  const h = createHash('sha256');
  h.update(bytes.subarray(0, QBC_DIGEST_OFFSET));
  h.update(bytes.subarray(QBC_HEADER_BYTES));
  if (h.digest('hex') !== digest) return new CohshError('check', `reload: ${path} is corrupt (its SHA-256 does not match its header)`);
  return { bytes, digest };
}

/** The RELOAD lines for one upload: BEGIN, the DATA chunks, COMMIT. */
export function reloadLines(target: string, bytes: Uint8Array, digest: string): { begin: string; data: string[]; commit: string } {
  const data: string[] = [];
  for (let off = 0; off < bytes.length; off += RELOAD_CHUNK_BYTES_MAX) {
    data.push(`RELOAD DATA ${off} ${base64Encode(bytes.subarray(off, off + RELOAD_CHUNK_BYTES_MAX))}`);
  }
  return { begin: `RELOAD BEGIN ${target} ${bytes.length} ${digest}`, data, commit: 'RELOAD COMMIT' };
}

/** Runs one reload; prints the BEGIN and COMMIT ACKs (and the first refusal). Returns whether it held. */
export async function runReload(client: ConsoleClient, sink: Sink, target: string, file: string): Promise<boolean> {
  if (!/^[A-Za-z0-9._-]+$/.test(target) || Buffer.byteLength(target) > RELOAD_TARGET_BYTES_MAX) {
    sink.error(`reload: invalid target '${target}' (a task label or manifest task name)`);
    return false;
  }
  const q = readQbc(file);
  if (q instanceof CohshError) {
    sink.error(q.message);
    return false;
  }
  const lines = reloadLines(target, q.bytes, q.digest);
  const say = (r: { acks: string[] }): void => {
    for (const a of r.acks) sink.ack(a);
  };
  const begin = await client.request(lines.begin, 'RELOAD', 'ack');
  if (begin instanceof CohshError) {
    sink.error(`reload: ${begin.message}`);
    return false;
  }
  say(begin);
  if (!begin.ok) return false;
  const data = await client.pipeline(lines.data, 'RELOAD', RELOAD_PIPELINE_WINDOW);
  if (data instanceof CohshError) {
    sink.error(`reload: ${data.message}`);
    return false;
  }
  if (!data.ok) {
    say({ acks: data.acks.filter((a) => a.startsWith('ERR')) });
    await client.request('RELOAD ABORT', 'RELOAD', 'ack');
    return false;
  }
  const commit = await client.request(lines.commit, 'RELOAD', 'ack');
  if (commit instanceof CohshError) {
    sink.error(`reload: ${commit.message}`);
    return false;
  }
  say(commit);
  return commit.ok;
}
