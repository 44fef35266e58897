// `cohsh update <image>`: sends a signed hive image over the console in UPDATE chunks (resuming after a dropped connection), then waits for the hive to come back on the new slot.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { base64Encode } from '../../js/bytes/base64.js';
import { UPDATE_CHUNK_BYTES_MAX } from '../../js/console/update.js';
import { replyTokens } from '../../js/console/reply-parse.js';
import type { ConsoleClient } from './client.js';
import { CohshError } from './errors.js';
import type { Sink } from './output.js';

/** DATA lines in flight: RELOAD's measured window (host/cohsh/reload.ts), the same console path. */
export const UPDATE_PIPELINE_WINDOW = 32;
/** Times an upload is resumed after its connection dropped before cohsh gives up. */
export const UPDATE_RESUMES_MAX = 5;
/** Between a dropped connection and the attempt to resume, in ms. */
export const UPDATE_RESUME_DELAY_MS = 250;
/** How long cohsh waits for the restarted hive to answer on its new slot, in ms. */
export const UPDATE_BACK_ONLINE_MS_MAX = 60_000;
/** Between two status polls while the hive restarts, in ms. */
export const UPDATE_POLL_MS = 250;
/** A hive image is a CPIO newc archive (docs/image-format.md): its first six bytes. */
const CPIO_NEWC_MAGIC = '070701';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The image's bytes and SHA-256 (hex), or why it cannot be sent. The hive does every real check. */
export function readImage(path: string): { bytes: Uint8Array; digest: string } | CohshError {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    return new CohshError('check', `update: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes.length === 0 || Buffer.from(bytes.subarray(0, CPIO_NEWC_MAGIC.length)).toString('latin1') !== CPIO_NEWC_MAGIC) {
    return new CohshError('check', `update: ${path} is not a hive image (build one with cohimg build)`);
  }
  return { bytes, digest: createHash('sha256').update(bytes).digest('hex') };
}

/** The DATA lines from `offset` to the end. */
export function updateDataLines(bytes: Uint8Array, offset: number): string[] {
  const out: string[] = [];
  for (let off = offset; off < bytes.length; off += UPDATE_CHUNK_BYTES_MAX) {
    out.push(`UPDATE DATA ${off} ${base64Encode(bytes.subarray(off, off + UPDATE_CHUNK_BYTES_MAX))}`);
  }
  return out;
}

/** After a dropped connection: waits for cohsh's own reconnect, else attaches again as before. */
async function reattach(client: ConsoleClient, role: Parameters<ConsoleClient['attach']>[0], ticket: string | null): Promise<boolean> {
  await client.settled();
  if (client.attachment() !== null) return true;
  const r = await client.attach(role, ticket);
  return !(r instanceof CohshError) && r.attachment !== null;
}

/** Runs one update; prints BEGIN, COMMIT and the final status ACKs (and the first refusal). Returns whether it held. */
export async function runUpdate(client: ConsoleClient, sink: Sink, file: string): Promise<boolean> {
  const img = readImage(file);
  if (img instanceof CohshError) {
    sink.error(img.message);
    return false;
  }
  const me = client.attachment();
  if (me === null) {
    sink.error('update: not attached');
    return false;
  }
  const begin = `UPDATE BEGIN ${img.bytes.length} ${img.digest}`;
  let slot = '';
  let drops = 0;
  // Each pass: BEGIN (which says where to go on from), the rest of the DATA. A dropped link goes round again.
  for (;;) {
    const b = await client.request(begin, 'UPDATE', 'ack');
    let lost: string | null = b instanceof CohshError ? b.message : null;
    if (!(b instanceof CohshError)) {
      for (const a of b.acks) sink.ack(a);
      if (!b.ok) return false;
      const t = replyTokens((b.acks[0] ?? '').replace(/^OK UPDATE ?/, ''));
      slot = t.get('slot') ?? '?';
      const offset = Number(t.get('offset') ?? '0');
      if (offset > 0) sink.info(`update: resuming at ${offset} of ${img.bytes.length} bytes`);
      const data = await client.pipeline(updateDataLines(img.bytes, offset), 'UPDATE', UPDATE_PIPELINE_WINDOW);
      if (data instanceof CohshError) lost = data.message;
      else if (!data.ok) {
        for (const a of data.acks.filter((x) => x.startsWith('ERR'))) sink.ack(a);
        return false;
      } else break;
    }
    if (++drops > UPDATE_RESUMES_MAX) {
      sink.error(`update: ${lost}; gave up after ${UPDATE_RESUMES_MAX} resumes (the hive keeps what it received: run update again to resume)`);
      return false;
    }
    sink.info(`update: ${lost}; resuming (${drops} of ${UPDATE_RESUMES_MAX})`);
    await sleep(UPDATE_RESUME_DELAY_MS);
    if (!(await reattach(client, me.role, me.ticket))) continue;
  }
  const commit = await client.request('UPDATE COMMIT', 'UPDATE', 'ack');
  if (commit instanceof CohshError) {
    sink.error(`update: ${commit.message}`);
    return false;
  }
  for (const a of commit.acks) sink.ack(a);
  if (!commit.ok) return false;
  sink.info(`update: slot ${slot} holds the new image; the hive restarts into it`);
  // Back online on the new slot: the hive confirms a slot when it gets online, before its console listens.
  const deadline = Date.now() + UPDATE_BACK_ONLINE_MS_MAX;
  while (Date.now() < deadline) {
    await sleep(UPDATE_POLL_MS);
    if (client.attachment() === null && !(await reattach(client, me.role, me.ticket))) continue;
    const s = await client.request('UPDATE STATUS', 'UPDATE', 'ack');
    if (s instanceof CohshError || !s.ok) continue;
    const t = replyTokens((s.acks[0] ?? '').replace(/^OK UPDATE ?/, ''));
    if (t.get('running') === slot) {
      for (const a of s.acks) sink.ack(a);
      sink.info(`update: the hive is back online on slot ${slot}`);
      return true;
    }
    // A fresh boot (nothing installed) on the other slot: the new image did not reach online in its trial.
    if (t.get('installed') === '0') {
      for (const a of s.acks) sink.ack(a);
      sink.error(`update: the hive came back on slot ${t.get('running') ?? '?'}: slot ${slot} did not reach online and it fell back`);
      return false;
    }
  }
  sink.error(`update: the hive did not come back on slot ${slot} within ${UPDATE_BACK_ONLINE_MS_MAX} ms (it falls back to the other slot on its next start)`);
  return false;
}
