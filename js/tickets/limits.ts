// Ticket bounds (spec §8, §16): hard caps in the format itself, and the manifest's default limits.

/** Longest token accepted, in characters (spec §8.1, console ticket limit §3.1). */
export const TOKEN_CHARS_MAX = 224;
/** Longest string field in the claims, in UTF-8 bytes. */
export const CLAIM_STRING_BYTES_MAX = 255;
/** Scopes the format can carry; more invalidates the token whatever the manifest says. */
export const SCOPES_HARD_MAX = 16;
/** MAC length: a BLAKE3 output. */
export const MAC_BYTES = 32;

/** Limits a manifest puts on verified claims (spec §8.6); over them the attach is refused. */
export interface TicketLimits {
  scopesMax: number;
  scopePathBytesMax: number;
  ratePerSMax: number;
  bandwidthBytesMax: bigint;
  cursorResumesMax: number;
  cursorAdvancesMax: number;
}

/** The reference's manifest defaults. */
export const DEFAULT_TICKET_LIMITS: Readonly<TicketLimits> = {
  scopesMax: 8,
  scopePathBytesMax: 128,
  ratePerSMax: 64,
  bandwidthBytesMax: 131072n,
  cursorResumesMax: 16,
  cursorAdvancesMax: 256,
};
