// Tests for the A/B slot disk layout on the host side: the state copies, a torn newest copy, flashing with read-back, and the bounds shared with firmware/slot_disk.h.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeStateCopy, encodeStateCopy, flashSlot, formatSlotDisk, openSlotDisk, readSlotImage, setSlotDiskState,
  SLOT_DISK_FIRST_SLOT_LBA, SLOT_DISK_SECTOR_BYTES, SLOT_DISK_SLOT_SECTORS_DEFAULT,
} from './slot-disk.js';
import { encodeSlotState } from './slots.js';

const SLOT_SECTORS = 16;

function disk(): string {
  const p = join(mkdtempSync(join(tmpdir(), 'cohesix-slot-disk-')), 'disk.img');
  formatSlotDisk(p, SLOT_SECTORS);
  return p;
}

function image(seed: number, n = 3000): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
}

test('slot disk: the layout constants are firmware/slot_disk.h\'s', () => {
  const h = readFileSync('firmware/slot_disk.h', 'utf8');
  const def = (name: string): string => new RegExp(`#define ${name} (.+)`).exec(h)?.[1] ?? '';
  assert.equal(def('SLOT_DISK_SECTOR_BYTES'), `${SLOT_DISK_SECTOR_BYTES}u`);
  assert.equal(def('SLOT_DISK_FIRST_SLOT_LBA'), `${SLOT_DISK_FIRST_SLOT_LBA}u`);
  assert.equal(def('SLOT_DISK_STATE_REC_OFFSET'), '28u');
  assert.equal(SLOT_DISK_SLOT_SECTORS_DEFAULT, (16 << 20) / 512);
});

test('slot disk: a state copy round-trips; any flipped byte of what its check covers is refused', () => {
  const rec = encodeSlotState({ active: 'B', last_good: 'A', attempts: 1 });
  const s = encodeStateCopy({ seq: 7n, imageBytes: { A: 10, B: 20 }, record: rec });
  assert.deepEqual(decodeStateCopy(s), { seq: 7n, imageBytes: { A: 10, B: 20 }, record: rec });
  for (let i = 0; i < 28 + 128 + 32; i++) {
    const t = Uint8Array.from(s);
    t[i] ^= 0x01;
    assert.equal(decodeStateCopy(t), null, `byte ${i}`);
  }
});

test('slot disk: flash writes, reads back, and makes the slot the next try; the last good slot is refused', () => {
  const p = disk();
  let d = openSlotDisk(p);
  assert.equal(d.state, null);
  assert.deepEqual(d.imageBytes, { A: 0, B: 0 });
  const a = image(1);
  const phases: string[] = [];
  flashSlot(d, 'A', a, (done, total, phase) => phases.push(`${phase} ${done}/${total}`));
  assert.deepEqual(phases, ['write 3000/3000', 'check 3000/3000']);
  d = openSlotDisk(p);
  assert.deepEqual(d.state, { active: 'A', last_good: null, attempts: 0 });
  assert.deepEqual(readSlotImage(d, 'A'), a);
  setSlotDiskState(d, { active: 'A', last_good: 'A', attempts: 0 });
  assert.throws(() => flashSlot(openSlotDisk(p), 'A', image(2), null), /slot A of .* is the last good slot/);
  flashSlot(openSlotDisk(p), 'B', image(3), null);
  assert.deepEqual(openSlotDisk(p).state, { active: 'B', last_good: 'A', attempts: 0 });
  assert.throws(() => flashSlot(openSlotDisk(p), 'B', new Uint8Array(SLOT_SECTORS * 512 + 1), null), /do not fit slot B/);
});

test('slot disk: a torn newest copy leaves the previous state, and says which copy', () => {
  const p = disk();
  flashSlot(openSlotDisk(p), 'A', image(1), null);
  const d = openSlotDisk(p);
  setSlotDiskState(d, { active: 'A', last_good: 'A', attempts: 0 });
  const newest = openSlotDisk(p);
  const fd = openSync(p, 'r+');
  writeSync(fd, Buffer.from('torn'), 0, 4, newest.stateLba[newest.newest] * SLOT_DISK_SECTOR_BYTES + 40);
  closeSync(fd);
  const after = openSlotDisk(p);
  assert.deepEqual(after.state, { active: 'A', last_good: null, attempts: 0 });
  assert.deepEqual(after.badCopies, [newest.newest]);
  assert.equal(after.seq, newest.seq - 1n);
});
