// The provider table: one node class per namespace kind of spec §6 (directory, read-only, generated, append-only, control, ring).
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Access, Answer, OpenFile, Principal } from '../secure9p/fileserver.js';
import type { Qid } from '../secure9p/messages.js';
import { QidType } from '../secure9p/opcodes.js';
import { ControlLog } from './control.js';
import type { Gate } from './gates.js';
import { RingCursor, TelemetryRing } from './ring.js';
import type { SessionView } from './policy.js';
import { LineReader, LineStore, sliceAt } from './store.js';

export type ProviderKind = 'dir' | 'read-only' | 'generated' | 'append-only' | 'control' | 'ring';

/** What a provider may ask of the session doing the I/O; built by the server per open. */
export interface IoContext {
  who: Principal;
  /** The session doing the I/O: control writes hand it to root-task (binds and mounts apply to it). */
  session: SessionView;
  /** Canonical path of the node (after bind/mount and alias rewriting). */
  canon: readonly string[];
  nowMs(): number;
  /** Null when the gate is open; else the Permission refusal, with the §9 line already logged. */
  gate(g: Gate): NineError | null;
  /** Before a telemetry append: with no tick left the session is revoked and Closed comes back (§8.5). */
  tickAvailable(): NineError | null;
  /** After a stored telemetry append: one tick spent. */
  tickSpent(): void;
}

/** Qid paths are unique for the life of the server, so a removed node's number never names another. */
let lastQidPath = 0n;
export function nextQidPath(): bigint {
  lastQidPath += 1n;
  return lastQidPath;
}

const gone = (): NineError => new NineError('NotFound', 'node removed');

export abstract class NsNode {
  readonly qidPath = nextQidPath();
  /** Made on first ask: a node's qid never changes, and every walk step and getattr wants it. */
  private qidMemo: Qid | null = null;
  /** Set when the node leaves the tree (worker removed, segment evicted): later I/O on an old fid → NotFound. */
  gone = false;
  mtimeMs = 0;
  abstract readonly kind: ProviderKind;

  /** Where a read of the retained content starts: 0, except rings (their base, spec §10.1). */
  readStart(): number {
    return 0;
  }

  qid(): Qid {
    return (this.qidMemo ??= { type: this.qidType(), version: 0, path: this.qidPath });
  }

  qidType(): number {
    if (this.kind === 'dir') return QidType.DIR;
    return this.kind === 'read-only' || this.kind === 'generated' ? QidType.FILE : QidType.APPEND;
  }

  /** Directories r-x for all, read-only r for all, append-only rw for the owner: what `ls -l` should say. */
  perm(): number {
    if (this.kind === 'dir') return 0o555;
    return this.qidType() === QidType.APPEND ? 0o644 : 0o444;
  }

  /** Bytes a reader from offset 0 would get, so `cat` and `stat` agree. */
  abstract size(): number;
  abstract open(access: Access, io: IoContext): OpenFile | NineError;
}

export class DirNode extends NsNode {
  readonly kind = 'dir' as const;
  readonly children = new Map<string, NsNode>();

  child(name: string): NsNode | undefined {
    return this.children.get(name);
  }
  /** Child names, sorted (spec §5.3 listing order). */
  names(): string[] {
    return [...this.children.keys()].sort();
  }
  size(): number {
    return 0;
  }
  open(): OpenFile | NineError {
    return this.gone ? gone() : {};
  }
  add<T extends NsNode>(name: string, n: T): T {
    this.children.set(name, n);
    return n;
  }
}

/**
 * A read-only open of a snapshot: a class, not a closure per open (one object instead of two
 * inside quickjs-ng). The bytes handed out are views of the snapshot (sliceAt), never changed.
 */
class SnapshotRead implements OpenFile {
  constructor(private readonly snap: Uint8Array) {}
  read(offset: bigint, count: number): Uint8Array {
    return sliceAt(this.snap, offset, count);
  }
}

/** R: content set from outside (boot lines, GPU info, model manifests). */
export class ReadOnlyFile extends NsNode {
  readonly kind = 'read-only' as const;
  constructor(private content: Uint8Array = new Uint8Array(0)) {
    super();
  }
  set(b: Uint8Array): void {
    this.content = b;
  }
  bytes(): Uint8Array {
    return this.content;
  }
  size(): number {
    return this.content.length;
  }
  open(): OpenFile | NineError {
    if (this.gone) return gone();
    // Snapshot at open so a reader walking through offsets sees one consistent text.
    return new SnapshotRead(this.content);
  }
}

/** G: text computed from live state on each open (/proc counters). */
export class GeneratedFile extends NsNode {
  readonly kind = 'generated' as const;
  constructor(private readonly render: () => string) {
    super();
  }
  size(): number {
    return utf8Encode(this.render()).length;
  }
  open(): OpenFile | NineError {
    if (this.gone) return gone();
    return new SnapshotRead(utf8Encode(this.render()));
  }
}

/** Checks a write before it is stored; returning a refusal stores nothing. */
export type WriteCheck = (data: Uint8Array, io: IoContext) => NineError | null;
/** Runs after a write is stored (e.g. tell root-task about a job line); its refusal is the writer's answer. */
export type AfterWrite = (data: Uint8Array, io: IoContext) => Answer<void>;

/** A: a bounded line log; plain append-only files ignore the write offset (spec §5.3). */
export class AppendFile extends NsNode {
  readonly kind = 'append-only' as const;
  constructor(
    readonly store: LineStore,
    private readonly check: WriteCheck | null = null,
    private readonly after: AfterWrite | null = null,
  ) {
    super();
  }
  size(): number {
    return this.store.bytes().length;
  }
  open(_access: Access, io: IoContext): OpenFile | NineError {
    if (this.gone) return gone();
    // One reader per open: a read that goes on after lines were dropped never starts mid-line.
    const reader = new LineReader(this.store);
    return {
      read: (offset, count) => (this.gone ? gone() : reader.read(offset, count)),
      write: (_offset, data) => {
        if (this.gone) return gone();
        const refused = this.check?.(data, io) ?? null;
        if (refused !== null) return refused;
        const n = this.store.append(data);
        if (n instanceof NineError) return n;
        this.mtimeMs = io.nowMs();
        const a = this.after?.(data, io);
        const done = (r: void | NineError): number | NineError => (r instanceof NineError ? r : n);
        return a instanceof Promise ? a.then(done) : done(a);
      },
    };
  }
}

/** Parses a control write's text and applies it; may answer later (root-task lives in another task). */
export type ControlHandler = (text: string, io: IoContext) => Answer<void>;

/** C: append-only control file; the raw write is kept before the handler runs (spec §7), reads show the kept writes. */
export class ControlFile extends NsNode {
  readonly kind = 'control' as const;
  readonly log = new ControlLog();
  constructor(
    private readonly handle: ControlHandler,
    /** Checked before anything is kept, so a closed gate leaves no trace but its log line. */
    private readonly gateName: Gate | null = null,
    /** Largest single write; over it → TooBig, nothing kept. */
    private readonly writeBytesMax: number | null = null,
  ) {
    super();
  }
  size(): number {
    return this.log.bytes().length;
  }
  open(_access: Access, io: IoContext): OpenFile | NineError {
    if (this.gone) return gone();
    return {
      read: (offset, count) => sliceAt(this.log.bytes(), offset, count),
      write: (_offset, data) => {
        if (this.gone) return gone();
        if (this.gateName !== null) {
          const shut = io.gate(this.gateName);
          if (shut !== null) return shut;
        }
        if (this.writeBytesMax !== null && data.length > this.writeBytesMax) {
          return new NineError('TooBig', `control write of ${data.length} bytes exceeds ${this.writeBytesMax}`);
        }
        // Spec §7: the raw write is kept before parsing, and UTF-8 is the parse's first rule, so
        // a write that is not UTF-8 is kept like any other invalid payload, then refused.
        this.log.append(data);
        this.mtimeMs = io.nowMs();
        const text = utf8Decode(data);
        if (text === null) return new NineError('Invalid', 'control write is not UTF-8');
        const a = this.handle(text, io);
        const done = (r: void | NineError): number | NineError => (r instanceof NineError ? r : data.length);
        return a instanceof Promise ? a.then(done) : done(a);
      },
    };
  }
}

/** Ring: a worker's telemetry (spec §10.1); appends are gated and cost a tick, each open reads with its own cursor. */
export class RingFile extends NsNode {
  readonly kind = 'ring' as const;
  constructor(readonly ring: TelemetryRing) {
    super();
  }
  /** Retained bytes; reads use absolute offsets, so `cat` from 0 works until the first wrap. */
  size(): number {
    return this.ring.next() - this.ring.base();
  }
  /** The ring's base: getattr's data_version tells readers where the retained window starts. */
  override readStart(): number {
    return this.ring.base();
  }
  open(_access: Access, io: IoContext): OpenFile | NineError {
    if (this.gone) return gone();
    const cursor = new RingCursor(this.ring);
    return {
      read: (offset, count) => (this.gone ? gone() : cursor.read(offset, count)),
      write: (offset, data) => {
        if (this.gone) return gone();
        const shut = io.gate('worker-telemetry');
        if (shut !== null) return shut;
        const spent = io.tickAvailable();
        if (spent !== null) return spent;
        const n = this.ring.append(offset, data);
        if (n instanceof NineError) return n;
        io.tickSpent();
        this.mtimeMs = io.nowMs();
        return n;
      },
    };
  }
}
