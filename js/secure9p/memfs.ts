// A small in-memory file server: the worked example of the FileServer table (like lib9p's ramfs.c) and the session tests' fixture.
import { NineError } from './errors.js';
import type { Access, Answer, AttachGrant, DirEntry, FileServer, NodeAttr, OpenFile, Principal } from './fileserver.js';
import type { Qid } from './messages.js';
import { QidType } from './opcodes.js';

/** Largest content of one in-memory file. */
export const MEMFS_FILE_BYTES_MAX = 65536;

export interface MemDir {
  kind: 'dir';
  path: bigint;
  children: Map<string, MemNode>;
}

export interface MemFile {
  kind: 'file';
  path: bigint;
  append: boolean;
  data: Uint8Array;
  /** Reads answer only when releaseSlowReads() runs: lets tests hold requests in flight. */
  slow: boolean;
}

export type MemNode = MemDir | MemFile;

export class MemFs implements FileServer<MemNode> {
  private nextPath = 1n;
  readonly root: MemDir = this.dir();
  private readonly held: Array<() => void> = [];
  /** Per-attach caps handed back in AttachGrant (spec §8.5's "worker record" half). */
  grantOpsMax: number | null = null;
  grantExpiresAtMs: number | null = null;
  opens = 0;
  closes = 0;

  dir(): MemDir {
    return { kind: 'dir', path: this.nextPath++, children: new Map() };
  }

  mkdir(parent: MemDir, name: string): MemDir {
    const d = this.dir();
    parent.children.set(name, d);
    return d;
  }

  file(parent: MemDir, name: string, content: Uint8Array, opts: { append?: boolean; slow?: boolean } = {}): MemFile {
    const f: MemFile = { kind: 'file', path: this.nextPath++, append: opts.append ?? false, data: content, slow: opts.slow ?? false };
    parent.children.set(name, f);
    return f;
  }

  releaseSlowReads(): number {
    const n = this.held.length;
    for (const go of this.held.splice(0)) go();
    return n;
  }

  attach(who: Principal): Answer<AttachGrant<MemNode>> {
    if (who.role === 'worker-lora') return new NineError('NotFound', 'no such sidecar');
    return { root: this.root, opsMax: this.grantOpsMax, expiresAtMs: this.grantExpiresAtMs };
  }

  qid(n: MemNode): Qid {
    return { type: n.kind === 'dir' ? QidType.DIR : n.append ? QidType.APPEND : QidType.FILE, version: 0, path: n.path };
  }

  walk(n: MemNode, name: string): Answer<MemNode> {
    if (n.kind !== 'dir') return new NineError('NotFound', 'not a directory');
    return n.children.get(name) ?? new NineError('NotFound', `${name}: no such file`);
  }

  getattr(n: MemNode): Answer<NodeAttr> {
    return n.kind === 'dir' ? { perm: 0o555, size: 0n } : { perm: n.append ? 0o644 : 0o444, size: BigInt(n.data.length), mtimeMs: 1500 };
  }

  list(n: MemNode): Answer<DirEntry[]> {
    if (n.kind !== 'dir') return new NineError('Invalid', 'not a directory');
    return [...n.children.keys()].sort().map((name) => ({ name, qid: this.qid(n.children.get(name) as MemNode) }));
  }

  open(n: MemNode, _access: Access): Answer<OpenFile> {
    this.opens++;
    const close = () => {
      this.closes++;
    };
    if (n.kind === 'dir') return { close };
    const file = n;
    return {
      close,
      read: (offset, count) => {
        const start = offset > BigInt(file.data.length) ? file.data.length : Number(offset);
        const data = file.data.slice(start, start + count);
        if (!file.slow) return data;
        return new Promise<Uint8Array>((resolve) => this.held.push(() => resolve(data)));
      },
      write: (_offset, data) => {
        // Append-only: the offset is ignored (spec §5.3).
        if (file.data.length + data.length > MEMFS_FILE_BYTES_MAX) return new NineError('TooBig', 'file full');
        const next = new Uint8Array(file.data.length + data.length);
        next.set(file.data);
        next.set(data, file.data.length);
        file.data = next;
        return data.length;
      },
    };
  }
}
