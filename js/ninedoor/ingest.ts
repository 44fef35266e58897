// Queen telemetry ingest (spec §10.3): /queen/telemetry/<dev>/{ctl,seg/seg-NNNNNN,latest} with record, segment and device quotas.
import { utf8Encode, utf8Length } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Access, OpenFile } from '../secure9p/fileserver.js';
import { OFFSET_AT_END } from '../secure9p/limits.js';
import { nameProblem } from '../secure9p/names.js';
import {
  INGEST_DEVICE_BYTES_MAX, INGEST_DEVICE_ID_BYTES_MAX, INGEST_DEVICES_MAX, INGEST_MIME_BYTES_MAX, INGEST_RECORD_BYTES_MAX,
  INGEST_SEGMENT_BYTES_MAX, INGEST_SEGMENT_SEQ_MAX, INGEST_SEGMENTS_PER_DEVICE_MAX,
} from './limits.js';
import { ControlFile, DirNode, NsNode, ReadOnlyFile, type IoContext } from './nodes.js';
import { sliceAt } from './store.js';

/** What happens when a device is full (spec §10.3): drop the oldest segments, or refuse with TooBig. */
export type IngestEvictPolicy = 'evict-oldest' | 'refuse';

const SEGMENT_QUOTA = 'telemetry segment quota exceeded';
const DEVICE_QUOTA = 'telemetry device quota exceeded';

/** Device names: a path component that is also JSON-safe (cohsh puts it in a JSON line). */
function deviceNameProblem(name: string): string | null {
  const bad = nameProblem(name);
  if (bad !== null) return bad;
  if (utf8Length(name) > INGEST_DEVICE_ID_BYTES_MAX) return `device id longer than ${INGEST_DEVICE_ID_BYTES_MAX} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/["\\\u0000-\u001f\u007f]/.test(name)) return 'device id is not JSON-safe';
  return null;
}

/** Strict parse of one ctl line: exactly `new` = "segment" and an optional clean `mime`. */
function parseCtlLine(line: string): { mime: string | null } | NineError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return new NineError('Invalid', 'ingest ctl line is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return new NineError('Invalid', 'ingest ctl line is not a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'new' && k !== 'mime') return new NineError('Invalid', `unknown field ${k}`);
  if (o.new !== 'segment') return new NineError('Invalid', 'new must be "segment"');
  if (o.mime === undefined) return { mime: null };
  const m = o.mime;
  if (typeof m !== 'string' || m === '' || /[\r\n\0]/.test(m) || utf8Length(m) > INGEST_MIME_BYTES_MAX) {
    return new NineError('Invalid', 'mime must be a non-empty single-line string');
  }
  return { mime: m };
}

/** One segment: append-only with ring offset rules (end or u64 max), one record per write. */
export class SegmentFile extends NsNode {
  readonly kind = 'append-only' as const;
  private data = new Uint8Array(0);
  constructor(
    private readonly device: IngestDevice,
    readonly id: string,
    readonly mime: string | null,
  ) {
    super();
  }
  size(): number {
    return this.data.length;
  }
  /** The segment's bytes (a hot reload carries them). */
  content(): Uint8Array {
    return this.data;
  }
  /** Puts back content() of an earlier code; its device counts the bytes. */
  reinstate(data: Uint8Array): void {
    this.data = data.slice();
  }
  open(_access: Access, io: IoContext): OpenFile | NineError {
    if (this.gone) return new NineError('NotFound', `segment ${this.id} evicted`);
    return {
      read: (offset, count) => (this.gone ? new NineError('NotFound', `segment ${this.id} evicted`) : sliceAt(this.data, offset, count)),
      write: (offset, data) => this.append(offset, data, io),
    };
  }
  private append(offset: bigint, data: Uint8Array, io: IoContext): number | NineError {
    const shut = io.gate('telemetry-ingest');
    if (shut !== null) return shut;
    if (this.gone) return new NineError('NotFound', `segment ${this.id} evicted`);
    if (data.length > INGEST_RECORD_BYTES_MAX) return new NineError('TooBig', `telemetry record of ${data.length} bytes exceeds ${INGEST_RECORD_BYTES_MAX}`);
    if (offset !== OFFSET_AT_END && offset !== BigInt(this.data.length)) {
      return new NineError('Invalid', `segment offset ${offset} is not the end ${this.data.length}`);
    }
    if (this.data.length + data.length > INGEST_SEGMENT_BYTES_MAX) return new NineError('TooBig', SEGMENT_QUOTA);
    const room = this.device.makeRoom(data.length, this);
    if (room !== null) return room;
    const next = new Uint8Array(this.data.length + data.length);
    next.set(this.data);
    next.set(data, this.data.length);
    this.data = next;
    this.device.bytes += data.length;
    this.mtimeMs = io.nowMs();
    return data.length;
  }
}

/** A device directory. Walking to an unknown device gives a pending one holding only `ctl`; its first ctl line makes it real. */
export class IngestDevice extends DirNode {
  readonly segDir = new DirNode();
  readonly latest = new ReadOnlyFile();
  /** Live segments, oldest first. */
  private readonly live: SegmentFile[] = [];
  private seq = 0;
  bytes = 0;
  real = false;

  constructor(
    private readonly ingest: IngestRoot,
    readonly deviceId: string,
  ) {
    super();
    this.add('ctl', new ControlFile((text, io) => this.ingest.control(this, text, io) ?? undefined, 'telemetry-ingest', INGEST_RECORD_BYTES_MAX));
  }

  /** Applies ctl lines in order; the first failure stops the rest (earlier lines stay applied). */
  control(text: string, io: IoContext): NineError | null {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const c = parseCtlLine(line);
      if (c instanceof NineError) return c;
      const made = this.newSegment(c.mime, io);
      if (made !== null) return made;
    }
    return null;
  }

  private newSegment(mime: string | null, io: IoContext): NineError | null {
    if (this.seq >= INGEST_SEGMENT_SEQ_MAX) return new NineError('TooBig', `device ${this.deviceId} used all ${INGEST_SEGMENT_SEQ_MAX} segment ids`);
    if (this.live.length >= INGEST_SEGMENTS_PER_DEVICE_MAX) {
      if (this.ingest.evictPolicy === 'refuse') return new NineError('TooBig', DEVICE_QUOTA);
      this.evict(this.live[0]);
    }
    this.seq++;
    const id = `seg-${String(this.seq).padStart(6, '0')}`;
    const seg = new SegmentFile(this, id, mime);
    seg.mtimeMs = io.nowMs();
    this.live.push(seg);
    this.segDir.add(id, seg);
    this.latest.set(utf8Encode(`${id}\n`));
    this.latest.mtimeMs = io.nowMs();
    return null;
  }

  /** Frees device bytes for a write to `writing` by evicting the oldest other segments, or refuses. */
  makeRoom(bytes: number, writing: SegmentFile): NineError | null {
    while (this.bytes + bytes > INGEST_DEVICE_BYTES_MAX) {
      if (this.ingest.evictPolicy === 'refuse') return new NineError('TooBig', DEVICE_QUOTA);
      const victim = this.live.find((s) => s !== writing);
      if (victim === undefined) return new NineError('TooBig', DEVICE_QUOTA);
      this.evict(victim);
    }
    return null;
  }

  private evict(seg: SegmentFile): void {
    const i = this.live.indexOf(seg);
    if (i >= 0) this.live.splice(i, 1);
    seg.gone = true;
    this.segDir.children.delete(seg.id);
    this.bytes -= seg.size();
    this.ingest.log(`[audit] telemetry ingest evicted device=${this.deviceId} seg=${seg.id} bytes=${seg.size()}`);
  }

  segmentIds(): string[] {
    return this.live.map((s) => s.id);
  }

  /** What a hot reload carries: the segment counter and the live segments, oldest first. */
  exportSegments(): IngestDeviceState {
    return {
      id: this.deviceId,
      seq: this.seq,
      segments: this.live.map((g) => ({ id: g.id, mime: g.mime, mtimeMs: g.mtimeMs, data: g.content() })),
    };
  }

  /** Rebuilds exportSegments() of an earlier code on this (fresh) device; the bounds hold as on a write. */
  importSegments(d: IngestDeviceState): NineError | null {
    if (d.segments.length > INGEST_SEGMENTS_PER_DEVICE_MAX) return new NineError('TooBig', DEVICE_QUOTA);
    let bytes = 0;
    for (const g of d.segments) {
      if (!/^seg-[0-9]{6}$/.test(g.id) || g.data.length > INGEST_SEGMENT_BYTES_MAX) return new NineError('Invalid', `segment ${g.id} does not fit`);
      bytes += g.data.length;
    }
    if (bytes > INGEST_DEVICE_BYTES_MAX || d.seq > INGEST_SEGMENT_SEQ_MAX) return new NineError('TooBig', DEVICE_QUOTA);
    for (const g of d.segments) {
      const seg = new SegmentFile(this, g.id, g.mime);
      seg.reinstate(g.data);
      seg.mtimeMs = g.mtimeMs;
      this.live.push(seg);
      this.segDir.add(g.id, seg);
    }
    this.seq = d.seq;
    this.bytes = bytes;
    const last = d.segments[d.segments.length - 1];
    if (last !== undefined) this.latest.set(utf8Encode(`${last.id}\n`));
    return null;
  }

  makeReal(): void {
    if (this.real) return;
    this.real = true;
    this.add('seg', this.segDir);
    this.add('latest', this.latest);
  }
}

/** /queen/telemetry: lists real devices; any valid name can be walked so its ctl can be written (9P has no create for clients). */
export class IngestRoot extends DirNode {
  constructor(
    readonly evictPolicy: IngestEvictPolicy,
    readonly log: (line: string) => void,
  ) {
    super();
  }

  override child(name: string): IngestDevice | undefined {
    const known = this.children.get(name);
    if (known !== undefined) return known as IngestDevice;
    return deviceNameProblem(name) === null ? new IngestDevice(this, name) : undefined;
  }

  /** The ctl of a pending device makes it real (or finds the one another writer made first). */
  control(dev: IngestDevice, text: string, io: IoContext): NineError | null {
    let real = this.children.get(dev.deviceId) as IngestDevice | undefined;
    if (real === undefined) {
      if (this.children.size >= INGEST_DEVICES_MAX) return new NineError('TooBig', `more than ${INGEST_DEVICES_MAX} ingest devices`);
      real = dev;
    }
    // Parse first so a refused first line creates no directory (nothing applied on error).
    const err = real.control(text, io);
    if (real.segmentIds().length > 0 && !real.real) {
      real.makeReal();
      this.children.set(real.deviceId, real);
    }
    return err;
  }

  device(id: string): IngestDevice | undefined {
    return this.children.get(id) as IngestDevice | undefined;
  }

  exportDevices(): IngestDeviceState[] {
    return [...this.children.values()].map((d) => (d as IngestDevice).exportSegments());
  }

  /** Installs exportDevices() of an earlier code into this (fresh) root. */
  importDevices(devices: readonly IngestDeviceState[]): NineError | null {
    if (devices.length > INGEST_DEVICES_MAX) return new NineError('TooBig', `more than ${INGEST_DEVICES_MAX} ingest devices`);
    for (const d of devices) {
      if (deviceNameProblem(d.id) !== null) return new NineError('Invalid', `bad ingest device id ${d.id}`);
      const dev = new IngestDevice(this, d.id);
      const err = dev.importSegments(d);
      if (err !== null) return err;
      dev.makeReal();
      this.children.set(d.id, dev);
    }
    return null;
  }
}

/** One ingest device as a hot reload carries it. */
export interface IngestDeviceState {
  id: string;
  seq: number;
  segments: { id: string; mime: string | null; mtimeMs: number; data: Uint8Array }[];
}
