// Helpers the fuzz targets share: text seeds, dev secrets and clock, chunking of an input, feeding a step decoder, the contract check.
import { utf8Encode } from '../../bytes/utf8.js';

export const text = (...lines: string[]): Uint8Array[] => lines.map((l) => utf8Encode(l));

/** The spec §8.3 reference dev secrets the ticket and session targets sign and check with. */
export const SECRETS = { queen: 'bootstrap', 'worker-heartbeat': 'worker', 'worker-gpu': 'worker-gpu' };
/** The fixed clock the targets run at (a ticket's issue time, a session's now), so runs repeat. */
export const NOW_MS = 1_700_000_000_000;

export { concatBytes as concat } from '../../bytes/concat.js';

/** A contract breach found by a target's own check (not the parser's throw). */
export function broken(what: string): never {
  throw new Error(`contract: ${what}`);
}

/** Cuts an input into chunks at the positions its own bytes pick, so split reads are tried too. */
export function chunks(input: Uint8Array, chunkBytesMax: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let k = input.length > 0 ? input[input.length - 1] : 0;
  while (i < input.length) {
    k = (Math.imul(k, 31) + input[i] + 7) >>> 0;
    const n = 1 + (k % chunkBytesMax);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** A decoder that takes a chunk one step at a time (the console's FrameDecoder and LineDiscipline). */
export interface StepDecoder<E> {
  next(chunk: Uint8Array, at: number): { consumed: number; event: E | null };
  buffered(): number;
  readonly bufferBytesMax: number;
}

export interface FeedOptions {
  /** The decoder's name in a broken contract's message. */
  what: string;
  chunkBytesMax: number;
  /** Events one input may complete before the target calls the decoder a runaway. */
  eventsMax: number;
}

/**
 * Feeds an input to a step decoder in the chunks its own bytes pick, checking that every step
 * makes progress, that the decoder never holds more than its bound and that events stay bounded;
 * `onEvent` hears each event with its count.
 */
export function feedSteps<E>(dec: StepDecoder<E>, input: Uint8Array, o: FeedOptions, onEvent: (event: E, count: number) => void): void {
  let events = 0;
  for (const c of chunks(input, o.chunkBytesMax)) {
    let at = 0;
    while (at < c.length) {
      const step = dec.next(c, at);
      if (step.consumed <= 0 && step.event === null) broken(`${o.what} made no progress`);
      at += step.consumed;
      if (dec.buffered() > dec.bufferBytesMax) broken(`${o.what} holds ${dec.buffered()} bytes, bound ${dec.bufferBytesMax}`);
      if (step.event !== null) {
        if (++events > o.eventsMax) broken(`more ${o.what} events than bytes`);
        onEvent(step.event, events);
      }
    }
  }
}
