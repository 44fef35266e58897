// How Secure9P frames and control messages share a task channel: binary = routed 9P, string = JSON control.
//
// Binary message: [u8 kind][u16 LE session][payload]. One channel endpoint carries several 9P
// sessions (root-task opens one per console session; a worker uses session 0). A session opens
// with its first frame and ends with a CLOSE from either side.
// String message: one JSON object, the root-task <-> NineDoor policy protocol (see ./remote.ts).

export const WIRE_FRAME = 1;
export const WIRE_CLOSE = 2;
export const WIRE_HEADER_BYTES = 3;
/** 9P sessions one endpoint may carry: root-task's console sessions and its own, with room. */
export const WIRE_SESSIONS_PER_EP_MAX = 16;

export interface WireMessage {
  kind: typeof WIRE_FRAME | typeof WIRE_CLOSE;
  session: number;
  payload: Uint8Array;
}

export function encodeWire(kind: WireMessage['kind'], session: number, payload?: Uint8Array): Uint8Array {
  const n = payload ? payload.length : 0;
  const out = new Uint8Array(WIRE_HEADER_BYTES + n);
  out[0] = kind;
  out[1] = session & 0xff;
  out[2] = (session >>> 8) & 0xff;
  if (payload) out.set(payload, WIRE_HEADER_BYTES);
  return out;
}

/** Null for anything that is not a well-formed routed message (the receiver drops it and says so). */
export function decodeWire(b: Uint8Array): WireMessage | null {
  if (b.length < WIRE_HEADER_BYTES) return null;
  const kind = b[0];
  if (kind !== WIRE_FRAME && kind !== WIRE_CLOSE) return null;
  const session = b[1] | (b[2] << 8);
  if (session >= WIRE_SESSIONS_PER_EP_MAX) return null;
  return { kind, session, payload: b.subarray(WIRE_HEADER_BYTES) };
}
