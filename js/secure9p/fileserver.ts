// The file-server contract the session drives: a table of handlers, as in plan9port lib9p, so NineDoor plugs in.
import type { TicketClaims, TicketRole } from '../tickets/claims.js';
import type { NineError } from './errors.js';
import type { Qid } from './messages.js';

/**
 * A handler's answer: a value, a refusal, or a promise of either (NineDoor hands control writes
 * to root-task policy over a channel, so some answers arrive later). Refusals are returned, not thrown;
 * a throw is treated as a server bug and answered EIO.
 */
export type Answer<T> = T | NineError | Promise<T | NineError>;

/** Who is attached: established by the session from uname/aname and the ticket, before any handler runs. */
export interface Principal {
  role: TicketRole;
  /** Worker id (or sidecar scope); null for a queen without one. */
  identity: string | null;
  /** Verified claims, or null for a ticketless queen. */
  claims: TicketClaims | null;
}

/** What an attach gives the session besides the root node: the record-side half of the budget (spec §8.5). */
export interface AttachGrant<N> {
  root: N;
  /** Ops the worker record allows; null = unbounded. The session uses the minimum with the ticket's. */
  opsMax?: number | null;
  /** Wall-clock ms after which the session is revoked; null = never. */
  expiresAtMs?: number | null;
}

/** Attributes for Rgetattr. The session adds the file-type bits (S_IFDIR/S_IFREG) from the qid. */
export interface NodeAttr {
  /** Permission bits only, e.g. 0o444. */
  perm: number;
  size: bigint;
  mtimeMs?: number;
  /**
   * Rgetattr's data_version. Rings (spec §10.1) put their base there: the absolute offset of the
   * oldest byte they retain, where a reader that wants "what is retained" starts (reads below it
   * are refused as stale). Other files leave it 0.
   */
  dataVersion?: bigint;
}

export interface DirEntry {
  name: string;
  qid: Qid;
}

export type Access = 'read' | 'write' | 'read-write';

/** Per-open state (lib9p's fid aux): a provider keeps cursors and the like here. */
export interface OpenFile {
  /**
   * Up to `count` bytes at `offset`; fewer (or none) at the end. The bytes are the caller's to
   * read, not to change, and may be the provider's own (a snapshot): a caller copies what it keeps
   * (the session copies them into its reply at once; a copy per read cost as much as the read).
   */
  read?(offset: bigint, count: number): Answer<Uint8Array>;
  /** Returns bytes accepted. Offsets follow the node's rules (spec §5.3: append-only may ignore it). */
  write?(offset: bigint, data: Uint8Array): Answer<number>;
  /** Called once when the fid is clunked or the session resets. */
  close?(): void;
}

export interface FileServer<N> {
  /** Builds the root for a principal; refuse here an identity that names no worker (NotFound/Invalid). */
  attach(who: Principal, aname: string): Answer<AttachGrant<N>>;
  qid(node: N): Qid;
  /** One step of a walk; policy for the target is the provider's to check (spec §6 views). */
  walk(node: N, name: string, who: Principal): Answer<N>;
  getattr(node: N, who: Principal): Answer<NodeAttr>;
  /** Children of a directory, in the order they should be listed (sorted by name for NineDoor). */
  list(node: N, who: Principal): Answer<DirEntry[]>;
  /**
   * Opens a node. The session has already refused write intent on a directory or on a node
   * without the qid append bit, so a provider sees only opens the spec allows.
   */
  open(node: N, access: Access, who: Principal): Answer<OpenFile>;
}
