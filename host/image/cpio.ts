// CPIO `newc` writer and strict reader for hive images, byte-exact to docs/image-format.md.
//
// The reader refuses everything the firmware loader refuses at the archive level, so an image
// `cohimg verify` accepts is one the firmware accepts. Keep in sync with: docs/image-format.md,
// firmware/image.c.
import { ImageError } from './errors.js';

/** Longest entry name in bytes, not counting its NUL terminator (`namesize` is one more). */
export const IMAGE_NAME_BYTES_MAX = 64;
/** Most headers in one image, TRAILER!!! included (the doc lists the trailer among the entries). */
export const IMAGE_ENTRIES_MAX = 64;
/** Largest image file in bytes, trailer padding included. */
export const IMAGE_BYTES_MAX = 16 * 1024 * 1024;
/** A newc header: 6-byte magic and 13 fields of 8 hex digits. */
export const CPIO_HEADER_BYTES = 110;
/** Header+name and data are each padded with NUL to this many bytes. */
export const CPIO_ALIGN_BYTES = 4;
/** After the trailer, NUL padding runs up to a multiple of this many bytes. */
export const CPIO_BLOCK_BYTES = 512;

export const CPIO_MAGIC = '070701';
export const CPIO_TRAILER_NAME = 'TRAILER!!!';
/** Regular file, rw-r--r--: the only mode an image entry may have. */
export const CPIO_ENTRY_MODE = 0o100644;

const FIELD_HEX_DIGITS = 8;
/** Field order after the magic, as the newc definition lays them out. */
const FIELDS = [
  'ino',
  'mode',
  'uid',
  'gid',
  'nlink',
  'mtime',
  'filesize',
  'devmajor',
  'devminor',
  'rdevmajor',
  'rdevminor',
  'namesize',
  'check',
] as const;
type Field = (typeof FIELDS)[number];
type Header = Record<Field, number>;

export interface CpioEntry {
  name: string;
  /** A view into the archive bytes, not a copy. */
  data: Uint8Array;
  /** Offset of the entry's header in the archive. */
  headerOffset: number;
  /** Offset of the entry's first data byte in the archive. */
  dataOffset: number;
}

export interface CpioInput {
  name: string;
  data: Uint8Array;
}

function padTo(n: number, align: number): number {
  return (align - (n % align)) % align;
}

/** Printable ASCII without space: names show up in error messages and shell commands. */
function checkName(name: string, what: string): void {
  if (name.length === 0) throw new ImageError('cpio-name', `${what}: empty entry name`);
  if (!/^[\x21-\x7e]+$/.test(name)) {
    throw new ImageError('cpio-name', `${what}: entry name ${JSON.stringify(name)} must be printable ASCII without spaces`);
  }
  if (name.length > IMAGE_NAME_BYTES_MAX) {
    throw new ImageError('cpio-name', `${what}: entry name ${JSON.stringify(name)} is ${name.length} bytes, over IMAGE_NAME_BYTES_MAX (${IMAGE_NAME_BYTES_MAX})`);
  }
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function headerBytes(h: Header): Uint8Array {
  let s = CPIO_MAGIC;
  for (const f of FIELDS) s += h[f].toString(16).toUpperCase().padStart(FIELD_HEX_DIGITS, '0');
  return ascii(s);
}

/**
 * Writes a newc archive: the entries in the order given, then TRAILER!!!, then NUL to a
 * 512-byte boundary. Every field but mode, nlink, filesize and namesize is 0, so the same
 * inputs always give the same bytes. Hex digits are upper case, as GNU cpio and the Linux
 * kernel's gen_init_cpio write them, and the reader takes only upper case (one spelling per image).
 */
export function writeCpio(entries: readonly CpioInput[], what = 'image'): Uint8Array {
  if (entries.length + 1 > IMAGE_ENTRIES_MAX) {
    throw new ImageError('cpio-bound', `${what}: ${entries.length} entries and the trailer are over IMAGE_ENTRIES_MAX (${IMAGE_ENTRIES_MAX})`);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    checkName(e.name, what);
    if (e.name === CPIO_TRAILER_NAME) throw new ImageError('cpio-name', `${what}: ${CPIO_TRAILER_NAME} is reserved for the trailer`);
    if (seen.has(e.name)) throw new ImageError('cpio-duplicate', `${what}: duplicate entry ${e.name}`);
    seen.add(e.name);
  }
  const all: { name: string; data: Uint8Array; mode: number }[] = entries.map((e) => ({ name: e.name, data: e.data, mode: CPIO_ENTRY_MODE }));
  all.push({ name: CPIO_TRAILER_NAME, data: new Uint8Array(0), mode: 0 });

  let total = 0;
  for (const e of all) {
    const namesize = e.name.length + 1;
    total += CPIO_HEADER_BYTES + namesize + padTo(CPIO_HEADER_BYTES + namesize, CPIO_ALIGN_BYTES);
    total += e.data.length + padTo(e.data.length, CPIO_ALIGN_BYTES);
  }
  total += padTo(total, CPIO_BLOCK_BYTES);
  if (total > IMAGE_BYTES_MAX) {
    throw new ImageError('cpio-bound', `${what}: ${total} bytes, over IMAGE_BYTES_MAX (${IMAGE_BYTES_MAX})`);
  }

  const out = new Uint8Array(total); // zero-filled: every padding byte is already NUL
  let o = 0;
  for (const e of all) {
    const namesize = e.name.length + 1;
    const h: Header = {
      ino: 0, mode: e.mode, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: e.data.length,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize, check: 0,
    };
    out.set(headerBytes(h), o);
    out.set(ascii(e.name), o + CPIO_HEADER_BYTES);
    o += CPIO_HEADER_BYTES + namesize + padTo(CPIO_HEADER_BYTES + namesize, CPIO_ALIGN_BYTES);
    out.set(e.data, o);
    o += e.data.length + padTo(e.data.length, CPIO_ALIGN_BYTES);
  }
  return out;
}

function parseHeader(b: Uint8Array, at: number, what: string): Header {
  for (let i = 0; i < CPIO_MAGIC.length; i++) {
    if (b[at + i] !== CPIO_MAGIC.charCodeAt(i)) {
      throw new ImageError('cpio-header', `${what}: no newc magic ${CPIO_MAGIC} at offset ${at}`);
    }
  }
  const h = {} as Header;
  let p = at + CPIO_MAGIC.length;
  for (const f of FIELDS) {
    let v = 0;
    for (let i = 0; i < FIELD_HEX_DIGITS; i++, p++) {
      const c = b[p];
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      // Upper case only, as writeCpio emits: a case flip must change the verdict, not only the bytes.
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else throw new ImageError('cpio-header', `${what}: header at offset ${at}: field ${f} is not 8 upper-case hex digits`);
      v = v * 16 + d;
    }
    h[f] = v;
  }
  return h;
}

function requireNul(b: Uint8Array, from: number, to: number, what: string, where: string): void {
  for (let i = from; i < to; i++) {
    if (b[i] !== 0) throw new ImageError('cpio-padding', `${what}: non-zero padding byte at offset ${i} (${where})`);
  }
}

/**
 * Reads a newc archive strictly: fixed fields must hold their fixed values, padding must be
 * NUL, names unique, TRAILER!!! present, and nothing but NUL up to the next 512-byte boundary
 * after it (the file must end exactly there). Entries come back in archive order, trailer excluded.
 */
export function readCpio(b: Uint8Array, what = 'image'): CpioEntry[] {
  if (b.length > IMAGE_BYTES_MAX) {
    throw new ImageError('cpio-bound', `${what}: ${b.length} bytes, over IMAGE_BYTES_MAX (${IMAGE_BYTES_MAX})`);
  }
  const entries: CpioEntry[] = [];
  const seen = new Set<string>();
  let o = 0;
  for (let count = 1; ; count++) {
    if (o === b.length) throw new ImageError('cpio-trailer', `${what}: ends at offset ${o} without ${CPIO_TRAILER_NAME}`);
    if (count > IMAGE_ENTRIES_MAX) {
      throw new ImageError('cpio-bound', `${what}: more than IMAGE_ENTRIES_MAX (${IMAGE_ENTRIES_MAX}) entries before ${CPIO_TRAILER_NAME}`);
    }
    if (b.length - o < CPIO_HEADER_BYTES) {
      throw new ImageError('cpio-truncated', `${what}: truncated header at offset ${o} (${b.length - o} of ${CPIO_HEADER_BYTES} bytes)`);
    }
    const h = parseHeader(b, o, what);
    const at = `header at offset ${o}`;

    if (h.namesize < 2) throw new ImageError('cpio-name', `${what}: ${at}: namesize ${h.namesize} leaves no name`);
    if (h.namesize - 1 > IMAGE_NAME_BYTES_MAX) {
      throw new ImageError('cpio-name', `${what}: ${at}: name is ${h.namesize - 1} bytes, over IMAGE_NAME_BYTES_MAX (${IMAGE_NAME_BYTES_MAX})`);
    }
    const nameAt = o + CPIO_HEADER_BYTES;
    const nameEnd = nameAt + h.namesize;
    const dataAt = nameEnd + padTo(CPIO_HEADER_BYTES + h.namesize, CPIO_ALIGN_BYTES);
    if (dataAt > b.length) throw new ImageError('cpio-truncated', `${what}: ${at}: truncated in the name or its padding`);
    if (b[nameEnd - 1] !== 0) throw new ImageError('cpio-name', `${what}: ${at}: name is not NUL-terminated`);
    let name = '';
    for (let i = nameAt; i < nameEnd - 1; i++) name += String.fromCharCode(b[i]);
    checkName(name, `${what}: ${at}`);
    requireNul(b, nameEnd, dataAt, what, `after the name ${name}`);

    const isTrailer = name === CPIO_TRAILER_NAME;
    const fixed: [Field, number][] = [
      ['ino', 0], ['mode', isTrailer ? 0 : CPIO_ENTRY_MODE], ['uid', 0], ['gid', 0], ['nlink', 1], ['mtime', 0],
      ['devmajor', 0], ['devminor', 0], ['rdevmajor', 0], ['rdevminor', 0], ['check', 0],
    ];
    if (isTrailer) fixed.push(['filesize', 0]);
    for (const [f, v] of fixed) {
      if (h[f] !== v) {
        throw new ImageError('cpio-header', `${what}: entry ${name}: ${f} is 0${h[f].toString(8)} (octal), must be 0${v.toString(8)}`);
      }
    }

    if (isTrailer) {
      const end = dataAt + padTo(dataAt, CPIO_BLOCK_BYTES);
      const tail = Math.min(end, b.length);
      for (let i = dataAt; i < tail; i++) {
        if (b[i] !== 0) throw new ImageError('cpio-trailing', `${what}: non-NUL byte at offset ${i} after ${CPIO_TRAILER_NAME}`);
      }
      if (b.length > end) {
        throw new ImageError('cpio-trailing', `${what}: ${b.length - end} bytes after the 512-byte boundary that follows ${CPIO_TRAILER_NAME} (offset ${end})`);
      }
      if (b.length < end) {
        throw new ImageError('cpio-truncated', `${what}: ends at offset ${b.length}, inside the NUL padding after ${CPIO_TRAILER_NAME} that runs to offset ${end}`);
      }
      return entries;
    }

    if (seen.has(name)) throw new ImageError('cpio-duplicate', `${what}: duplicate entry ${name} (${at})`);
    seen.add(name);
    const dataEnd = dataAt + h.filesize;
    const next = dataEnd + padTo(h.filesize, CPIO_ALIGN_BYTES);
    if (next > b.length) {
      throw new ImageError('cpio-truncated', `${what}: entry ${name}: truncated (needs ${next - dataAt} bytes of data and padding from offset ${dataAt}, file has ${b.length - dataAt})`);
    }
    requireNul(b, dataEnd, next, what, `after the data of ${name}`);
    entries.push({ name, data: b.subarray(dataAt, dataEnd), headerOffset: o, dataOffset: dataAt });
    o = next;
  }
}

/**
 * Length of the newc archive at the start of `b` (through the NUL padding after TRAILER!!!), found by
 * walking the headers; for images read back from a device, whose bytes run on past the image.
 * Throws on anything that is not a header; the strict reader then judges the slice.
 */
export function cpioExtent(b: Uint8Array, what = 'image'): number {
  let o = 0;
  for (let count = 0; count <= IMAGE_ENTRIES_MAX; count++) {
    if (b.length - o < CPIO_HEADER_BYTES) throw new ImageError('cpio-truncated', `${what}: no complete header at offset ${o}`);
    const h = parseHeader(b, o, what);
    const dataAt = o + CPIO_HEADER_BYTES + h.namesize + padTo(CPIO_HEADER_BYTES + h.namesize, CPIO_ALIGN_BYTES);
    const nameEnd = o + CPIO_HEADER_BYTES + h.namesize - 1;
    let name = '';
    for (let i = o + CPIO_HEADER_BYTES; i < nameEnd && i < b.length; i++) name += String.fromCharCode(b[i]);
    const next = dataAt + h.filesize + padTo(h.filesize, CPIO_ALIGN_BYTES);
    if (name === CPIO_TRAILER_NAME) return Math.min(next + padTo(next, CPIO_BLOCK_BYTES), IMAGE_BYTES_MAX + 1);
    o = next;
    if (o > IMAGE_BYTES_MAX) break;
  }
  throw new ImageError('cpio-trailer', `${what}: no ${CPIO_TRAILER_NAME} within IMAGE_BYTES_MAX (${IMAGE_BYTES_MAX}) bytes`);
}
