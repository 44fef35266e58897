// Fuzz target: console frames (length-prefixed, server and client sides, before and after AUTH) and encodeFrame.
import { FrameDecoder, FrameError, encodeFrame } from '../../console/frame.js';
import { utf8Encode } from '../../bytes/utf8.js';
import type { FuzzTarget } from '../target.js';
import { broken, concat, feedSteps } from './common.js';

function frame(line: string): Uint8Array {
  const f = encodeFrame(line);
  return f instanceof FrameError ? utf8Encode(line) : f;
}

/** Events one input may complete before the target calls the decoder a runaway. */
const FRAME_EVENTS_MAX = 8192;
/** Largest piece of an input handed to the decoder at once (an odd size, so frames straddle pieces). */
const FRAME_CHUNK_BYTES_MAX = 61;

function drive(dec: FrameDecoder, input: Uint8Array, authAfterFirst: boolean): string {
  let last = 'none';
  feedSteps(dec, input, { what: 'decoder', chunkBytesMax: FRAME_CHUNK_BYTES_MAX, eventsMax: FRAME_EVENTS_MAX }, (event, count) => {
    last = event.kind === 'fatal' ? `fatal:${event.code}` : event.kind;
    if (authAfterFirst && count === 1) dec.setAuthenticated();
  });
  return last;
}

export const consoleFrame: FuzzTarget = {
  name: 'console-frame',
  maxInputBytes: 2048,
  dictionary: ['AUTH changeme', 'ATTACH queen', 'PING', 'TAIL /log/queen.log', '\x00\x00\x00\x04', '\x00\x00\x01\x04', '\x00\x00\x20\x00', '\xff\xff'],
  seeds: () => [
    concat([frame('AUTH changeme'), frame('ATTACH queen'), frame('PING')]),
    concat([frame('AUTH changeme'), frame(''), frame('CAT /log/queen.log')]),
    concat([frame('OK PING reply=pong'), frame('END')]),
  ],
  run(input) {
    const mode = input.length > 0 ? input[0] % 3 : 0;
    const body = input.subarray(1);
    // Whatever the decoder hands out must frame again (a server echoes lines back in replies).
    const side = mode === 2 ? 'client' : 'server';
    const label = drive(new FrameDecoder(side), body, mode === 1);
    const asLine = encodeFrame(String.fromCharCode(...body.subarray(0, 64)));
    if (!(asLine instanceof FrameError) && asLine.length < 4) broken('encodeFrame gave a frame without its header');
    return `${side}:${label}`;
  },
};
