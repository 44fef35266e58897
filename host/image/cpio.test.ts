// Tests for the CPIO newc writer and strict reader: exact bytes, round trips, and one test per refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CPIO_BLOCK_BYTES,
  IMAGE_BYTES_MAX,
  IMAGE_ENTRIES_MAX,
  IMAGE_NAME_BYTES_MAX,
  readCpio,
  writeCpio,
  type CpioInput,
} from './cpio.js';
import { bytes, rawArchive, rawRecord } from './fixtures.js';

function latin1(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `code (message: ${err.message})`);
    if (message) assert.match(err.message ?? '', message);
    return true;
  });
}

test('cpio: one small entry is written byte for byte as the newc definition says', () => {
  const z = '00000000';
  const expected =
    // magic, ino, mode 0100644, uid, gid, nlink 1, mtime, filesize 2, dev*, namesize 2 ("a" + NUL), check
    '070701' + z + '000081A4' + z + z + '00000001' + z + '00000002' + z + z + z + z + '00000002' + z + 'a\0' +
    // 110 + 2 = 112 is already a multiple of 4: no name padding; data "hi" + 2 NUL
    'hi\0\0' +
    // trailer: mode 0, nlink 1, namesize 11, then 110 + 11 = 121 padded to 124
    '070701' + z + z + z + z + '00000001' + z + z + z + z + z + z + '0000000B' + z + 'TRAILER!!!\0' + '\0\0\0';
  assert.equal(expected.length, 240);
  const want = expected + '\0'.repeat(512 - 240);
  const got = writeCpio([{ name: 'a', data: bytes('hi') }]);
  assert.equal(got.length, 512);
  assert.equal(latin1(got), want);
});

test('cpio: round trip keeps names, data and order for every padding remainder', () => {
  const inputs: CpioInput[] = [];
  for (let n = 0; n < 12; n++) {
    // names of length 1..12 and data of length 0..11 cover every header and data remainder mod 4
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (n * 31 + i * 7) & 0xff;
    inputs.push({ name: 'n'.repeat(n) + String.fromCharCode(0x61 + n), data });
  }
  const archive = writeCpio(inputs);
  assert.equal(archive.length % CPIO_BLOCK_BYTES, 0);
  const back = readCpio(archive);
  assert.deepEqual(back.map((e) => e.name), inputs.map((e) => e.name));
  back.forEach((e, i) => {
    assert.deepEqual(Buffer.from(e.data), Buffer.from(inputs[i].data));
    assert.equal(e.dataOffset % 4, 0);
    assert.deepEqual(Buffer.from(archive.subarray(e.dataOffset, e.dataOffset + e.data.length)), Buffer.from(inputs[i].data));
  });
  assert.deepEqual(Buffer.from(writeCpio(inputs)), Buffer.from(archive), 'the same input gives the same bytes');
});

test('cpio: an empty archive is just the trailer and reads back as no entries', () => {
  const a = writeCpio([]);
  assert.equal(a.length, 512);
  assert.deepEqual(readCpio(a), []);
});

test('cpio: hex digits are upper case only, so flipping the case of one is refused', () => {
  // mode 0100644 is 000081A4: its 'A' is the one letter every entry header carries.
  const a = writeCpio([{ name: 'x.qbc', data: bytes('0123456789') }]);
  assert.equal(readCpio(a)[0].name, 'x.qbc');
  const lower = bytes(latin1(a).replace(/070701[0-9A-F]{104}/g, (h) => h.toLowerCase()));
  assert.notDeepEqual(Buffer.from(lower), Buffer.from(a));
  throwsCode(() => readCpio(lower), 'cpio-header', /header at offset 0: field mode is not 8 upper-case hex digits/);
});

test('cpio: refuses non-zero padding after a name', () => {
  const a = rawArchive([rawRecord('ab', bytes('hi'))]); // 110 + 3 = 113: three padding bytes at 113..115
  assert.equal(readCpio(a)[0].name, 'ab');
  const bad = a.slice();
  bad[114] = 0x20;
  throwsCode(() => readCpio(bad), 'cpio-padding', /non-zero padding byte at offset 114 \(after the name ab\)/);
});

test('cpio: refuses non-zero padding after data', () => {
  const a = rawArchive([rawRecord('ab', bytes('hi'))]); // data at 116..117, padding 118..119
  const bad = a.slice();
  bad[119] = 1;
  throwsCode(() => readCpio(bad), 'cpio-padding', /offset 119 \(after the data of ab\)/);
});

test('cpio: refuses a duplicate name', () => {
  const a = rawArchive([rawRecord('one', bytes('1')), rawRecord('two', bytes('2')), rawRecord('one', bytes('3'))]);
  throwsCode(() => readCpio(a), 'cpio-duplicate', /duplicate entry one/);
  throwsCode(() => writeCpio([{ name: 'one', data: bytes('1') }, { name: 'one', data: bytes('2') }]), 'cpio-duplicate');
});

test('cpio: refuses an archive without TRAILER!!!', () => {
  const rec = rawRecord('a', bytes('data'));
  throwsCode(() => readCpio(rec), 'cpio-trailer', /ends at offset 116 without TRAILER!!!/);
  throwsCode(() => readCpio(new Uint8Array(0)), 'cpio-trailer');
});

test('cpio: refuses a non-NUL byte in the padding after the trailer', () => {
  const a = writeCpio([{ name: 'a', data: bytes('hi') }]);
  const bad = a.slice();
  bad[511] = 0x0a;
  throwsCode(() => readCpio(bad), 'cpio-trailing', /non-NUL byte at offset 511 after TRAILER!!!/);
});

test('cpio: refuses bytes past the 512-byte boundary after the trailer, even NUL', () => {
  const a = writeCpio([{ name: 'a', data: bytes('hi') }]);
  const longer = new Uint8Array(a.length + 512);
  longer.set(a);
  throwsCode(() => readCpio(longer), 'cpio-trailing', /512 bytes after the 512-byte boundary/);
  const garbage = new Uint8Array(a.length + 1);
  garbage.set(a);
  garbage[a.length] = 0x41;
  throwsCode(() => readCpio(garbage), 'cpio-trailing');
});

test('cpio: refuses a name over IMAGE_NAME_BYTES_MAX and takes one at it', () => {
  const atMax = 'n'.repeat(IMAGE_NAME_BYTES_MAX);
  assert.equal(readCpio(rawArchive([rawRecord(atMax, bytes('x'))]))[0].name, atMax);
  assert.equal(readCpio(writeCpio([{ name: atMax, data: bytes('x') }]))[0].name, atMax);
  const over = atMax + 'n';
  throwsCode(() => readCpio(rawArchive([rawRecord(over, bytes('x'))])), 'cpio-name', /name is 65 bytes, over IMAGE_NAME_BYTES_MAX \(64\)/);
  throwsCode(() => writeCpio([{ name: over, data: bytes('x') }]), 'cpio-name', /over IMAGE_NAME_BYTES_MAX/);
});

test('cpio: refuses a name that is not NUL-terminated, holds a NUL, or is empty', () => {
  throwsCode(() => readCpio(rawArchive([rawRecord('abc', bytes('x'), { namesize: 3 })])), 'cpio-name', /not NUL-terminated/);
  throwsCode(() => readCpio(rawArchive([rawRecord('a\0b', bytes('x'))])), 'cpio-name', /printable ASCII/);
  throwsCode(() => readCpio(rawArchive([rawRecord('', bytes('x'))])), 'cpio-name', /namesize 1 leaves no name/);
});

test('cpio: refuses every truncation of a valid archive', () => {
  const a = writeCpio([{ name: 'manifest.json', data: bytes('{"x":1}') }, { name: 'b.qbc', data: new Uint8Array(300).fill(7) }]);
  for (let n = 0; n < a.length; n++) {
    assert.throws(() => readCpio(a.subarray(0, n)), (e: unknown) => {
      const code = (e as { code?: string }).code;
      // cut exactly between records there is no header left to be truncated: the trailer is missing
      assert.ok(code === 'cpio-truncated' || code === 'cpio-trailer', `cut at ${n}: ${code}`);
      return true;
    });
  }
  throwsCode(() => readCpio(a.subarray(0, 50)), 'cpio-truncated', /truncated header at offset 0/);
  throwsCode(() => readCpio(a.subarray(0, 130)), 'cpio-truncated', /manifest.json: truncated/);
  throwsCode(() => readCpio(a.subarray(0, a.length - 1)), 'cpio-truncated', /inside the NUL padding after TRAILER!!!/);
});

test('cpio: refuses a header field that must be fixed and is not', () => {
  const cases: [Parameters<typeof rawRecord>[2], RegExp][] = [
    [{ mtime: 1 }, /entry a: mtime/],
    [{ ino: 5 }, /entry a: ino/],
    [{ uid: 1000 }, /entry a: uid/],
    [{ gid: 1000 }, /entry a: gid/],
    [{ nlink: 2 }, /entry a: nlink/],
    [{ mode: 0o100755 }, /entry a: mode is 0100755 \(octal\), must be 0100644/],
    [{ devmajor: 8 }, /devmajor/],
    [{ devminor: 1 }, /devminor/],
    [{ rdevmajor: 1 }, /rdevmajor/],
    [{ rdevminor: 1 }, /rdevminor/],
    [{ check: 1 }, /check/],
  ];
  for (const [h, msg] of cases) throwsCode(() => readCpio(rawArchive([rawRecord('a', bytes('x'), h)])), 'cpio-header', msg);
  const trailerWithMode = rawRecord('a', bytes('x'));
  const badTrailer = new Uint8Array(512);
  badTrailer.set(trailerWithMode);
  badTrailer.set(rawRecord('TRAILER!!!', new Uint8Array(0), { mode: 0o100644 }), trailerWithMode.length);
  throwsCode(() => readCpio(badTrailer), 'cpio-header', /entry TRAILER!!!: mode/);
});

test('cpio: refuses a wrong magic (including the crc variant 070702) and non-hex fields', () => {
  throwsCode(() => readCpio(rawArchive([rawRecord('a', bytes('x'), { magic: '070702' })])), 'cpio-header', /no newc magic 070701 at offset 0/);
  const a = writeCpio([{ name: 'a', data: bytes('x') }]);
  const bad = a.slice();
  bad[6 + 8 * 6 + 3] = 0x67; // a 'g' inside filesize
  throwsCode(() => readCpio(bad), 'cpio-header', /field filesize is not 8 upper-case hex digits/);
});

test('cpio: refuses more than IMAGE_ENTRIES_MAX headers (trailer counted) and takes exactly that many', () => {
  const ok = Array.from({ length: IMAGE_ENTRIES_MAX - 1 }, (_, i) => ({ name: `e${i}`, data: bytes(String(i)) }));
  assert.equal(readCpio(writeCpio(ok)).length, IMAGE_ENTRIES_MAX - 1);
  const over = [...ok, { name: 'one-more', data: bytes('x') }];
  throwsCode(() => writeCpio(over), 'cpio-bound', /over IMAGE_ENTRIES_MAX \(64\)/);
  throwsCode(() => readCpio(rawArchive(over.map((e) => rawRecord(e.name, e.data)))), 'cpio-bound', /more than IMAGE_ENTRIES_MAX \(64\)/);
});

test('cpio: refuses an image over IMAGE_BYTES_MAX', () => {
  throwsCode(() => writeCpio([{ name: 'big', data: new Uint8Array(IMAGE_BYTES_MAX) }]), 'cpio-bound', /over IMAGE_BYTES_MAX \(16777216\)/);
  throwsCode(() => readCpio(new Uint8Array(IMAGE_BYTES_MAX + CPIO_BLOCK_BYTES)), 'cpio-bound', /over IMAGE_BYTES_MAX/);
});
