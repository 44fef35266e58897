// `telemetry push <file> --device <id>` (spec §10.3): new segment with the file's mime, read `latest`, append cohsh-telemetry-push/v1 records.
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { replyTokens } from '../../js/console/reply-parse.js';
import { ECHO_PAYLOAD_BYTES_MAX } from '../../js/console/limits.js';
import { utf8Length } from '../../js/bytes/utf8.js';
import { checkJsonValue } from './checks.js';
import type { ShellContext } from './commands.js';
import { CohshError } from './errors.js';
import { TELEMETRY_RECORD_BYTES_MAX, TELEMETRY_SOURCE_BYTES_MAX } from './limits.js';

export const TELEMETRY_SCHEMA = 'cohsh-telemetry-push/v1';

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  log: 'text/plain',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
};

export const TOO_LARGE_MESSAGE = `telemetry push source exceeds max_bytes_per_segment ${TELEMETRY_SOURCE_BYTES_MAX} bytes`;

/**
 * A record must fit one console ECHO payload (128 bytes, §3.1) as well as the 4096-byte record
 * bound (§10.3): over the TCP console the ECHO bound is the tighter one.
 */
export const RECORD_BYTES_MAX = Math.min(ECHO_PAYLOAD_BYTES_MAX, TELEMETRY_RECORD_BYTES_MAX - 1);

export function recordLine(seq: number, mime: string, chunk: string): string {
  return `{"schema":"${TELEMETRY_SCHEMA}","seq":${seq},"mime":"${mime}","payload":${JSON.stringify(chunk)}}`;
}

export function mimeFor(file: string): string | null {
  return MIME_BY_EXTENSION[extname(file).slice(1).toLowerCase()] ?? null;
}

/** Cuts text into records, each the largest chunk (whole code points) whose record fits `maxBytes`. */
export function chunkRecords(text: string, mime: string, maxBytes: number = RECORD_BYTES_MAX): string[] | CohshError {
  const out: string[] = [];
  const cps = Array.from(text);
  let i = 0;
  while (i < cps.length) {
    const seq = out.length + 1;
    let chunk = '';
    let j = i;
    while (j < cps.length && utf8Length(recordLine(seq, mime, chunk + cps[j])) <= maxBytes) chunk += cps[j++];
    if (j === i) return new CohshError('check', `a record cannot fit ${maxBytes} bytes`);
    out.push(recordLine(seq, mime, chunk));
    i = j;
  }
  return out;
}

/**
 * What `bytes=` reports: the bytes the push put into the segment, each record and the newline its
 * ECHO appends (spec §17.10), as the reference cohsh counts them; not the source file's size.
 */
export function sentBytes(records: readonly string[]): number {
  let n = 0;
  for (const r of records) n += utf8Length(r) + 1;
  return n;
}

/** Reads and checks the source: non-empty UTF-8, ≤ 32768 bytes, known extension. */
export function readSource(file: string): { text: string; bytes: number; mime: string } | CohshError {
  const mime = mimeFor(file);
  if (mime === null) return new CohshError('check', `unsupported file type '${extname(file) || file}' (txt, log, json, ndjson, csv)`);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    return new CohshError('io', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (size > TELEMETRY_SOURCE_BYTES_MAX) return new CohshError('check', TOO_LARGE_MESSAGE);
  if (size === 0) return new CohshError('check', `${file} is empty`);
  const bytes = readFileSync(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new CohshError('check', `${file} is not valid UTF-8`);
  }
  return { text, bytes: bytes.length, mime };
}

export async function telemetryPush(args: readonly string[], ctx: ShellContext): Promise<boolean> {
  const usage = 'usage: telemetry push <file> --device <id>';
  if (args[0] !== 'push') {
    ctx.sink.error(usage);
    return false;
  }
  let file: string | null = null;
  let device: string | null = null;
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--device') device = args[++i] ?? '';
    else if (args[i].startsWith('--device=')) device = args[i].slice('--device='.length);
    else if (file === null) file = args[i];
    else {
      ctx.sink.error(usage);
      return false;
    }
  }
  if (file === null || device === null) {
    ctx.sink.error(usage);
    return false;
  }
  const refuse = (reason: string): false => {
    ctx.sink.ack(`ERR TELEMETRY action=push device=${device} reason=${reason}`);
    return false;
  };
  await ctx.client.settled();
  const who = ctx.client.attachment();
  if (who === null) {
    ctx.sink.error('telemetry: not attached');
    return false;
  }
  if (who.role !== 'queen') return refuse('telemetry push requires a queen session');
  const dev = checkJsonValue('device', device);
  if (dev instanceof CohshError) return refuse(dev.message);
  if (dev.includes('/')) return refuse('invalid value for device: contains /');
  const src = readSource(file);
  if (src instanceof CohshError) return refuse(src.message);
  const records = chunkRecords(src.text, src.mime);
  if (records instanceof CohshError) return refuse(records.message);

  const base = `/queen/telemetry/${dev}`;
  const step = async (line: string, label: string, mode: 'ack' | 'stream') => {
    const r = await ctx.client.request(line, label, mode);
    if (r instanceof CohshError) return r.message;
    if (!r.ok) return r.acks[r.acks.length - 1] ?? r.problem ?? 'no answer';
    return r;
  };
  const ctl = await step(`ECHO ${base}/ctl {"new":"segment","mime":"${src.mime}"}`, 'ECHO', 'ack');
  if (typeof ctl === 'string') return refuse(ctl);
  const latest = await step(`CAT ${base}/latest`, 'CAT', 'stream');
  if (typeof latest === 'string') return refuse(latest);
  const data = replyTokens((latest.acks[0] ?? '').replace(/^OK CAT ?/, '')).get('data') ?? '';
  const seg = [...latest.lines, data].map((l) => l.trim()).find((l) => /^seg-\d{6}$/.test(l));
  if (seg === undefined) return refuse(`no segment id in ${base}/latest`);
  for (const rec of records) {
    const r = await step(`ECHO ${base}/seg/${seg} ${rec}`, 'ECHO', 'ack');
    if (typeof r === 'string') return refuse(r);
  }
  ctx.sink.ack(`OK TELEMETRY action=push device=${dev} seg_id=${seg} records=${records.length} bytes=${sentBytes(records)}`);
  return true;
}
