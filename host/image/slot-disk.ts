// A/B slots on a disk (image file or block device): the same layout firmware/slot_disk.c reads and writes, for `cohimg flash --slot` and `cohimg slot ... --disk`.
//
// Keep in sync with: firmware/slot_disk.h, docs/slots.md "On a disk".
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { ImageError } from './errors.js';
import { decodeSlotState, encodeSlotState, type SlotName, type SlotState } from './slots.js';

export const SLOT_DISK_SECTOR_BYTES = 512;
export const SLOT_DISK_MAGIC = 'COHSLOTS';
export const SLOT_DISK_STATE_MAGIC = 'COHSTATE';
export const SLOT_DISK_VERSION = 1;
export const SLOT_DISK_FIRST_SLOT_LBA = 8;
/** One 16 MiB image (IMAGE_BYTES_MAX) per slot. */
export const SLOT_DISK_SLOT_SECTORS_DEFAULT = (16 * 1024 * 1024) / SLOT_DISK_SECTOR_BYTES;
const HEADER_FIELDS_BYTES = 56;
const HEADER_CHECK_BYTES = 8;
const STATE_REC_OFFSET = 28;
const SLOT_STATE_BYTES_MAX = 128;
const STATE_FIELDS_BYTES = STATE_REC_OFFSET + SLOT_STATE_BYTES_MAX;
const STATE_CHECK_BYTES = 32;
/** Bytes per slot write while flashing; the progress bar moves once per chunk. */
export const SLOT_DISK_CHUNK_BYTES = 64 * 1024;

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

export interface StateCopy {
  seq: bigint;
  imageBytes: { A: number; B: number };
  record: string; // the canonical text record ('' = none yet)
}

export function encodeStateCopy(c: StateCopy): Uint8Array {
  const s = Buffer.alloc(SLOT_DISK_SECTOR_BYTES);
  s.write(SLOT_DISK_STATE_MAGIC, 0, 'latin1');
  s.writeBigUInt64LE(c.seq, 8);
  s.writeUInt32LE(c.imageBytes.A, 16);
  s.writeUInt32LE(c.imageBytes.B, 20);
  const rec = Buffer.from(c.record, 'latin1');
  if (rec.length > SLOT_STATE_BYTES_MAX) throw new ImageError('slots', `state record of ${rec.length} bytes`);
  s.writeUInt32LE(rec.length, 24);
  rec.copy(s, STATE_REC_OFFSET);
  sha256(s.subarray(0, STATE_FIELDS_BYTES)).copy(s, STATE_FIELDS_BYTES);
  return new Uint8Array(s);
}

/** A state copy, or null when it is torn, rotted or not one. */
export function decodeStateCopy(sector: Uint8Array): StateCopy | null {
  const s = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  if (s.length < SLOT_DISK_SECTOR_BYTES || s.toString('latin1', 0, 8) !== SLOT_DISK_STATE_MAGIC) return null;
  if (!sha256(s.subarray(0, STATE_FIELDS_BYTES)).equals(s.subarray(STATE_FIELDS_BYTES, STATE_FIELDS_BYTES + STATE_CHECK_BYTES))) return null;
  const n = s.readUInt32LE(24);
  if (n > SLOT_STATE_BYTES_MAX) return null;
  return { seq: s.readBigUInt64LE(8), imageBytes: { A: s.readUInt32LE(16), B: s.readUInt32LE(20) }, record: s.toString('latin1', STATE_REC_OFFSET, STATE_REC_OFFSET + n) };
}

export function encodeHeader(slotSectors: number): Uint8Array {
  const s = Buffer.alloc(SLOT_DISK_SECTOR_BYTES);
  s.write(SLOT_DISK_MAGIC, 0, 'latin1');
  s.writeUInt32LE(SLOT_DISK_VERSION, 8);
  s.writeUInt32LE(SLOT_DISK_SECTOR_BYTES, 12);
  s.writeBigUInt64LE(1n, 16);
  s.writeBigUInt64LE(2n, 24);
  s.writeBigUInt64LE(BigInt(SLOT_DISK_FIRST_SLOT_LBA), 32);
  s.writeBigUInt64LE(BigInt(SLOT_DISK_FIRST_SLOT_LBA + slotSectors), 40);
  s.writeBigUInt64LE(BigInt(slotSectors), 48);
  sha256(s.subarray(0, HEADER_FIELDS_BYTES)).copy(s, HEADER_FIELDS_BYTES, 0, HEADER_CHECK_BYTES);
  return new Uint8Array(s);
}

export interface SlotDisk {
  path: string;
  stateLba: [number, number];
  slotLba: { A: number; B: number };
  slotSectors: number;
  /** The newest valid copy (index 0/1), or -1. */
  newest: number;
  seq: bigint;
  imageBytes: { A: number; B: number };
  state: SlotState | null;
  /** Copies that did not check (torn or rotted), for status. */
  badCopies: number[];
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return b;
}

function writeAt(fd: number, pos: number, bytes: Uint8Array): void {
  for (let o = 0; o < bytes.length; ) o += writeSync(fd, bytes, o, bytes.length - o, pos + o);
}

/** The disk's size in bytes (a regular file's length; a block device's from its end). */
function sizeOf(fd: number): number {
  const st = fstatSync(fd);
  if (st.isFile()) return st.size;
  // Block devices report size 0 in stat: find the end by reading the last sector the header says exists.
  return Number.MAX_SAFE_INTEGER;
}

export function openSlotDisk(path: string): SlotDisk {
  const fd = openSync(path, 'r');
  try {
    const h = readAt(fd, 0, SLOT_DISK_SECTOR_BYTES);
    if (h.toString('latin1', 0, 8) !== SLOT_DISK_MAGIC) throw new ImageError('slots', `${path}: no ${SLOT_DISK_MAGIC} header: not a slot disk`);
    if (!sha256(h.subarray(0, HEADER_FIELDS_BYTES)).subarray(0, HEADER_CHECK_BYTES).equals(h.subarray(HEADER_FIELDS_BYTES, HEADER_FIELDS_BYTES + HEADER_CHECK_BYTES))) {
      throw new ImageError('slots', `${path}: header check differs (corrupted)`);
    }
    if (h.readUInt32LE(8) !== SLOT_DISK_VERSION || h.readUInt32LE(12) !== SLOT_DISK_SECTOR_BYTES) throw new ImageError('slots', `${path}: header version or sector size unknown`);
    const d: SlotDisk = {
      path, stateLba: [Number(h.readBigUInt64LE(16)), Number(h.readBigUInt64LE(24))],
      slotLba: { A: Number(h.readBigUInt64LE(32)), B: Number(h.readBigUInt64LE(40)) }, slotSectors: Number(h.readBigUInt64LE(48)),
      newest: -1, seq: 0n, imageBytes: { A: 0, B: 0 }, state: null, badCopies: [],
    };
    const end = (d.slotLba.B + d.slotSectors) * SLOT_DISK_SECTOR_BYTES;
    if (end > sizeOf(fd)) throw new ImageError('slots', `${path}: the header's slots end at ${end} bytes, past the disk`);
    for (const i of [0, 1]) {
      const c = decodeStateCopy(readAt(fd, d.stateLba[i] * SLOT_DISK_SECTOR_BYTES, SLOT_DISK_SECTOR_BYTES));
      if (c === null) {
        d.badCopies.push(i);
        continue;
      }
      if (d.newest >= 0 && c.seq <= d.seq) continue;
      d.newest = i;
      d.seq = c.seq;
      d.imageBytes = { ...c.imageBytes };
      d.state = c.record === '' ? null : decodeSlotState(c.record, `${path} state copy ${i + 1}`);
    }
    for (const n of ['A', 'B'] as const) if (d.imageBytes[n] > d.slotSectors * SLOT_DISK_SECTOR_BYTES) d.imageBytes[n] = 0;
    return d;
  } finally {
    closeSync(fd);
  }
}

/** Creates (a file) or overwrites (a file or device) a fresh layout: header, both copies empty. */
export function formatSlotDisk(path: string, slotSectors = SLOT_DISK_SLOT_SECTORS_DEFAULT): void {
  const size = (SLOT_DISK_FIRST_SLOT_LBA + 2 * slotSectors) * SLOT_DISK_SECTOR_BYTES;
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+', 0o644);
  try {
    if (fstatSync(fd).isFile() && fstatSync(fd).size < size) ftruncateSync(fd, size); // sparse: slots cost nothing until written
    // Copies first, then the header: a half-formatted disk has no header.
    writeAt(fd, SLOT_DISK_SECTOR_BYTES, new Uint8Array(2 * SLOT_DISK_SECTOR_BYTES));
    fsyncSync(fd);
    writeAt(fd, 0, encodeHeader(slotSectors));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A new state copy over the older one, then fsync: the one crash-safe step every change is made of. */
function writeCopy(d: SlotDisk, state: SlotState | null, imageBytes: { A: number; B: number }): void {
  const target = d.newest === 0 ? 1 : 0;
  const fd = openSync(d.path, 'r+');
  try {
    writeAt(fd, d.stateLba[target] * SLOT_DISK_SECTOR_BYTES, encodeStateCopy({ seq: d.seq + 1n, imageBytes, record: state ? encodeSlotState(state) : '' }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  d.newest = target;
  d.seq += 1n;
  d.imageBytes = { ...imageBytes };
  d.state = state;
}

export function setSlotDiskState(d: SlotDisk, state: SlotState): void {
  if (d.imageBytes[state.active] === 0) throw new ImageError('slots', `${d.path}: slot ${state.active} holds no image`);
  writeCopy(d, state, d.imageBytes);
}

/**
 * Writes an image into a slot of the disk with read-back verification, then makes it the active slot on
 * trial (last good unchanged). The slot is first recorded empty, so a crash mid-write never leaves a
 * record that names half an image; the running/last good slot is refused unless `force`.
 */
export function flashSlot(d: SlotDisk, slot: SlotName, image: Uint8Array, bar: ((done: number, total: number, phase: string) => void) | null,
  force = false): { writeMs: number; state: SlotState } {
  if (image.length > d.slotSectors * SLOT_DISK_SECTOR_BYTES) throw new ImageError('slots', `${image.length} bytes do not fit slot ${slot} (${d.slotSectors * SLOT_DISK_SECTOR_BYTES})`);
  if (d.state?.last_good === slot && !force) throw new ImageError('slots', `slot ${slot} of ${d.path} is the last good slot: flash the other one, or --force`);
  if (d.imageBytes[slot] !== 0) {
    const keep = d.state && d.state.active === slot ? (d.state.last_good && d.state.last_good !== slot ? { ...d.state, active: d.state.last_good, attempts: 0 } : null) : d.state;
    writeCopy(d, keep, { ...d.imageBytes, [slot]: 0 });
  }
  const base = d.slotLba[slot] * SLOT_DISK_SECTOR_BYTES;
  const fd = openSync(d.path, 'r+');
  const t0 = performance.now();
  try {
    for (let off = 0; off < image.length; off += SLOT_DISK_CHUNK_BYTES) {
      writeAt(fd, base + off, image.subarray(off, off + SLOT_DISK_CHUNK_BYTES));
      bar?.(Math.min(off + SLOT_DISK_CHUNK_BYTES, image.length), image.length, 'write');
    }
    fsyncSync(fd);
    for (let off = 0; off < image.length; off += SLOT_DISK_CHUNK_BYTES) {
      const want = image.subarray(off, off + SLOT_DISK_CHUNK_BYTES);
      if (!readAt(fd, base + off, want.length).equals(want)) throw new ImageError('slots', `${d.path}: slot ${slot} reads back different at offset ${off}`);
      bar?.(Math.min(off + SLOT_DISK_CHUNK_BYTES, image.length), image.length, 'check');
    }
  } finally {
    closeSync(fd);
  }
  const writeMs = performance.now() - t0;
  const lastGood = d.state?.last_good && d.state.last_good !== slot ? d.state.last_good : null;
  const state: SlotState = { active: slot, last_good: lastGood, attempts: 0 };
  writeCopy(d, state, { ...d.imageBytes, [slot]: image.length });
  return { writeMs, state };
}

/** The image bytes a slot holds, as recorded. */
export function readSlotImage(d: SlotDisk, slot: SlotName): Uint8Array {
  const fd = openSync(d.path, 'r');
  try {
    return new Uint8Array(readAt(fd, d.slotLba[slot] * SLOT_DISK_SECTOR_BYTES, d.imageBytes[slot]));
  } finally {
    closeSync(fd);
  }
}
