// cohimg flash: writes an image to a file or block device, reads it back and compares, refusing unsafe targets.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, readlinkSync, readSync, realpathSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { ImageError } from './errors.js';
import { killAfterBytes } from './faults.js';

/** Bytes per write; the progress bar moves once per chunk. */
export const FLASH_CHUNK_BYTES = 64 * 1024;
/** Width of the progress bar in characters. */
const PROGRESS_BAR_CHARS = 30;

export interface FlashTarget {
  path: string;
  kind: 'file' | 'block';
  /** For a block device: its /sys/block name (the whole disk for a partition). */
  disk?: string;
}

export interface FlashReport {
  bytes: number;
  writeMs: number;
  readBackMs: number;
}

/** Where /proc/mounts says devices are mounted: realpath of the source → mount point. */
function mountedDevices(): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return out; // not Linux: no mount table to consult
  }
  for (const line of text.split('\n')) {
    const [src, at] = line.split(' ');
    if (!src || !src.startsWith('/dev/')) continue;
    try {
      out.set(realpathSync(src), at.replace(/\\040/g, ' '));
    } catch {
      out.set(src, at);
    }
  }
  return out;
}

/** The /sys/block name of the disk holding a block device node (itself, or its parent for a partition). */
function diskOf(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  const link = readlinkSync(`/sys/dev/block/${major}:${minor}`);
  const parts = link.split('/');
  const name = parts[parts.length - 1];
  return existsSync(`/sys/block/${name}`) ? name : parts[parts.length - 2];
}

/**
 * Decides whether `path` may be flashed: a regular file (created if absent), or a block device that
 * is not mounted (nor any partition of it) and is removable or a loop device — the last two unless forced.
 */
export function checkTarget(path: string, force: boolean): FlashTarget {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, kind: 'file' };
    throw new ImageError('flash', `flash target ${path}: ${(e as Error).message}`);
  }
  if (st.isFile()) return { path, kind: 'file' };
  if (!st.isBlockDevice()) throw new ImageError('flash', `flash target ${path} is neither a regular file nor a block device`);
  let disk: string;
  try {
    disk = diskOf(st.rdev);
  } catch (e) {
    throw new ImageError('flash', `flash target ${path}: cannot find its disk in /sys/dev/block: ${(e as Error).message}`);
  }
  const real = realpathSync(path);
  for (const [dev, at] of mountedDevices()) {
    const name = basename(dev);
    if (dev === real || name === disk || (name.startsWith(disk) && existsSync(`/sys/block/${disk}/${name}`))) {
      // Never forced: writing under a mounted filesystem corrupts it and whatever runs from it.
      throw new ImageError('flash', `flash target ${path}: ${dev} is mounted on ${at}; unmount it first`);
    }
  }
  let removable = false;
  try {
    removable = readFileSync(`/sys/block/${disk}/removable`, 'utf8').trim() === '1';
  } catch {
    removable = false;
  }
  if (!removable && !disk.startsWith('loop') && !force) {
    throw new ImageError('flash', `flash target ${path}: /dev/${disk} is not a removable or loop device (a system disk?); pass --force if you are sure`);
  }
  return { path, kind: 'block', disk };
}

export function progress(done: number, total: number, phase: string): string {
  const filled = total === 0 ? PROGRESS_BAR_CHARS : Math.round((done / total) * PROGRESS_BAR_CHARS);
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `\r${phase} [${'#'.repeat(filled)}${'.'.repeat(PROGRESS_BAR_CHARS - filled)}] ${String(pct).padStart(3)}% ${done}/${total} bytes`;
}

/**
 * Writes the image at offset 0, fsyncs, then reads back as many bytes and compares. A regular file
 * ends up exactly the image (truncated after it); a device keeps whatever follows the image.
 */
export function flashImage(image: Uint8Array, target: FlashTarget, bar: ((line: string) => void) | null): FlashReport {
  const killAt = killAfterBytes();
  let fd: number;
  try {
    fd = openSync(target.path, target.kind === 'file' ? (existsSync(target.path) ? 'r+' : 'w') : 'r+', 0o644);
  } catch (e) {
    throw new ImageError('flash', `cannot open ${target.path} for writing: ${(e as Error).message}`);
  }
  const t0 = performance.now();
  try {
    for (let off = 0; off < image.length; ) {
      const n = Math.min(FLASH_CHUNK_BYTES, image.length - off);
      let w = 0;
      while (w < n) w += writeSync(fd, image, off + w, n - w, off + w);
      off += n;
      if (killAt !== null && off >= killAt) process.kill(process.pid, 'SIGKILL');
      bar?.(progress(off, image.length, 'write'));
    }
    if (target.kind === 'file') ftruncateSync(fd, image.length);
    fsyncSync(fd);
  } catch (e) {
    throw new ImageError('flash', `writing ${target.path} failed: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  const t1 = performance.now();
  bar?.(progress(image.length, image.length, 'write') + '\n');
  const back = new Uint8Array(image.length);
  const rfd = openSync(target.path, 'r');
  try {
    let got = 0;
    while (got < image.length) {
      const r = readSync(rfd, back, got, Math.min(FLASH_CHUNK_BYTES, image.length - got), got);
      if (r === 0) break;
      got += r;
      bar?.(progress(got, image.length, 'check'));
    }
    if (got < image.length) throw new ImageError('flash', `read-back of ${target.path} ended after ${got} of ${image.length} bytes`);
  } finally {
    closeSync(rfd);
  }
  bar?.(progress(image.length, image.length, 'check') + '\n');
  for (let i = 0; i < image.length; i++) {
    if (back[i] !== image[i]) throw new ImageError('flash', `read-back of ${target.path} differs from the image at offset ${i}: the write did not stick`);
  }
  return { bytes: image.length, writeMs: t1 - t0, readBackMs: performance.now() - t1 };
}
