// The net-console relay's channel format: TCP events up to root-task, writes and closes down, as [kind][u32 socket][bytes].
export const RELAY_ACCEPT = 1; // payload: the peer address, UTF-8
export const RELAY_DATA = 2; // payload: bytes received, or (down) bytes to send
export const RELAY_CLOSED = 3; // the connection is gone
export const RELAY_CLOSE = 4; // (down) close the connection once its bytes are out
export const RELAY_PAUSE = 5; // (down) stop reading the connection: root-task's session queue is full (back-pressure)
export const RELAY_RESUME = 6; // (down) read it again
export const RELAY_HEADER_BYTES = 5;

export interface RelayMessage {
  kind: number;
  sock: number;
  payload: Uint8Array;
}

export function encodeRelay(kind: number, sock: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(RELAY_HEADER_BYTES + (payload ? payload.length : 0));
  out[0] = kind;
  out[1] = sock & 0xff;
  out[2] = (sock >>> 8) & 0xff;
  out[3] = (sock >>> 16) & 0xff;
  out[4] = (sock >>> 24) & 0xff;
  if (payload) out.set(payload, RELAY_HEADER_BYTES);
  return out;
}

/** Null for anything malformed: the receiver drops it and says so. */
export function decodeRelay(b: Uint8Array): RelayMessage | null {
  if (b.length < RELAY_HEADER_BYTES || b[0] < RELAY_ACCEPT || b[0] > RELAY_RESUME) return null;
  const sock = (b[1] | (b[2] << 8) | (b[3] << 16) | (b[4] << 24)) >>> 0;
  return { kind: b[0], sock, payload: b.subarray(RELAY_HEADER_BYTES) };
}
