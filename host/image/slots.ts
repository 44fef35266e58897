// A/B slot folders on the host: the state record codec (as firmware/slots.c) and `cohimg slot install`.
//
// Keep in sync with: firmware/slots.h, host/sim/slots_posix.h, docs/slots.md.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './errors.js';
import { killPoint } from './faults.js';

export const SLOT_STATE_SCHEMA = 'cohesix-slots/v1';
export const SLOT_STATE_BYTES_MAX = 128;
export const SLOT_STATE_CHECK_HEX_DIGITS = 16;
export const SLOTS_STATE_FILE = 'state';
export const SLOTS_STATE_TMP_FILE = 'state.tmp';

export type SlotName = 'A' | 'B';
export interface SlotState {
  active: SlotName;
  last_good: SlotName | null;
  attempts: number;
}

export function encodeSlotState(s: SlotState): string {
  const body = `${SLOT_STATE_SCHEMA} active=${s.active} last_good=${s.last_good ?? '-'} attempts=${s.attempts}`;
  const check = createHash('sha256').update(body).digest('hex').slice(0, SLOT_STATE_CHECK_HEX_DIGITS);
  return `${body} check=${check}\n`;
}

export function decodeSlotState(text: string, what: string): SlotState {
  const m = /^cohesix-slots\/v1 active=([AB]) last_good=([AB-]) attempts=(\d{1,3})(?: check=[0-9a-f]{16})\n$/.exec(text);
  if (!m) throw new ImageError('slots', `${what}: not a '${SLOT_STATE_SCHEMA} active=A|B last_good=A|B|- attempts=N check=<hex>' record`);
  const s: SlotState = { active: m[1] as SlotName, last_good: m[2] === '-' ? null : (m[2] as SlotName), attempts: Number(m[3]) };
  if (encodeSlotState(s) !== text) throw new ImageError('slots', `${what}: check differs (corrupted, or not canonical)`);
  return s;
}

export function slotImagePath(dir: string, slot: SlotName): string {
  return join(dir, `${slot}.img`);
}

/** The state record, or null when the folder has none yet. */
export function readSlotState(dir: string): SlotState | null {
  const path = join(dir, SLOTS_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ImageError('slots', `cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeSlotState(text, path);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write new, fsync, rename over, fsync the folder; `point` names the kill points between the steps. */
function replaceDurably(dir: string, name: string, tmpName: string, bytes: Uint8Array, point: string): void {
  const tmp = join(dir, tmpName);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    for (let o = 0; o < bytes.length; ) o += writeSync(fd, bytes, o);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  killPoint(`install:${point}-tmp`);
  renameSync(tmp, join(dir, name));
  killPoint(`install:${point}-renamed`);
  fsyncDir(dir);
}

/** The slot a new image goes to: never the last good one; with none known good, not the active one. */
export function installTarget(state: SlotState | null): SlotName {
  if (!state) return 'A';
  const keep = state.last_good ?? state.active;
  return keep === 'A' ? 'B' : 'A';
}

/**
 * Installs an image (already verified by the caller) into the inactive slot, then makes it the active
 * slot on trial. A crash before the state is replaced leaves the old state, which never names the slot
 * being written as good; the firmware then boots what it booted before.
 */
export function installImage(dir: string, image: Uint8Array): { slot: SlotName; state: SlotState } {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
  } catch (e) {
    throw new ImageError('slots', `slot folder ${dir}: ${(e as Error).message}`);
  }
  const before = readSlotState(dir);
  const slot = installTarget(before);
  const state: SlotState = { active: slot, last_good: before?.last_good ?? null, attempts: 0 };
  if (state.last_good && !existsSync(slotImagePath(dir, state.last_good))) state.last_good = null;
  try {
    replaceDurably(dir, `${slot}.img`, `.${slot}.img.tmp`, image, 'image');
    replaceDurably(dir, SLOTS_STATE_FILE, SLOTS_STATE_TMP_FILE, new TextEncoder().encode(encodeSlotState(state)), 'state');
  } catch (e) {
    for (const t of [`.${slot}.img.tmp`, SLOTS_STATE_TMP_FILE]) {
      try {
        unlinkSync(join(dir, t));
      } catch {
        // nothing to clean up
      }
    }
    throw new ImageError('slots', `installing into slot ${slot} of ${dir} failed: ${(e as Error).message}`);
  }
  return { slot, state };
}
