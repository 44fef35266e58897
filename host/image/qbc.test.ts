// Tests for the .qbc header: the layout at the documented offsets, and one test per refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { encodeQbc, parseQbc, QBC_HEADER_BYTES } from './qbc.js';
import { bytes, FAKE_FINGERPRINT } from './fixtures.js';

/** A header laid out by hand from the table in docs/image-format.md, independent of encodeQbc. */
function handMade(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(104 + payload.length);
  const dv = new DataView(b.buffer);
  b.set(bytes('COHQBC\r\n'), 0);
  dv.setUint16(8, 1, true); // format_version
  dv.setUint16(10, 3, true); // flags: strip-source | strip-debug
  dv.setUint32(12, 104, true); // header_bytes
  b.set(bytes('0.15.1'), 16); // engine_version, NUL-padded to 16
  for (let i = 0; i < 32; i++) b[32 + i] = i; // engine_fingerprint 000102...1f
  dv.setUint32(64, payload.length, true);
  dv.setUint32(68, 0, true); // reserved
  b.set(payload, 104);
  b.set(createHash('sha256').update(b.subarray(0, 72)).update(payload).digest(), 72); // header 0..71 + payload
  return b;
}

function refused(b: Uint8Array, message: RegExp): void {
  assert.throws(() => parseQbc(b, 'x.qbc'), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'qbc');
    assert.match((e as Error).message, /^x\.qbc: /);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('qbc: a header laid out by hand from the doc parses to its fields', () => {
  const payload = bytes('module bytes');
  const h = parseQbc(handMade(payload), 'hand.qbc');
  assert.deepEqual(h, {
    formatVersion: 1,
    flags: 3,
    engineVersion: '0.15.1',
    engineFingerprint: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    payloadBytes: payload.length,
    payloadSha256: createHash('sha256').update(handMade(payload).subarray(0, 72)).update(payload).digest('hex'),
  });
});

test('qbc: encodeQbc writes the same bytes as the hand-made layout', () => {
  const payload = bytes('module bytes');
  const fp = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
  assert.deepEqual(Buffer.from(encodeQbc(payload, { engineVersion: '0.15.1', engineFingerprint: fp, flags: 3 })), Buffer.from(handMade(payload)));
  assert.equal(QBC_HEADER_BYTES, 104);
});

test('qbc: an empty payload is a valid file', () => {
  assert.equal(parseQbc(encodeQbc(new Uint8Array(0), { engineVersion: '0.15.1', engineFingerprint: FAKE_FINGERPRINT }), 'e.qbc').payloadBytes, 0);
});

test('qbc: refuses a file shorter than the header', () => {
  refused(handMade(bytes('x')).subarray(0, 103), /103 bytes, shorter than the 104-byte \.qbc header/);
});

test('qbc: refuses a wrong magic', () => {
  const b = handMade(bytes('x'));
  b[6] = 0x0a; // "\n\n" instead of "\r\n": a text-mode copy
  refused(b, /bad magic/);
});

test('qbc: refuses another format version', () => {
  const b = handMade(bytes('x'));
  b[8] = 2;
  refused(b, /format_version 2, this tool reads 1/);
});

test('qbc: refuses unknown flag bits', () => {
  const b = handMade(bytes('x'));
  b[10] = 0x07;
  refused(b, /flags 0x7 set unknown bits/);
  b[10] = 0;
  b[11] = 0x80;
  refused(b, /flags 0x8000 set unknown bits/);
});

test('qbc: refuses another header size', () => {
  const b = handMade(bytes('x'));
  b[12] = 108;
  refused(b, /header_bytes 108, must be 104/);
});

test('qbc: refuses an engine version that is empty, unprintable, or has text after its NUL', () => {
  const empty = handMade(bytes('x'));
  empty.fill(0, 16, 32);
  refused(empty, /engine_version is empty/);
  const gap = handMade(bytes('x'));
  gap[30] = 0x41; // "0.15.1\0...A\0"
  refused(gap, /engine_version is not printable ASCII followed only by NUL padding/);
  const ctl = handMade(bytes('x'));
  ctl[17] = 0x01;
  refused(ctl, /engine_version/);
});

test('qbc: refuses a non-zero reserved field', () => {
  const b = handMade(bytes('x'));
  b[70] = 1;
  refused(b, /reserved field is 65536, must be 0/);
});

test('qbc: refuses a truncated payload and trailing bytes', () => {
  const b = handMade(bytes('payload'));
  refused(b.subarray(0, b.length - 1), /truncated: payload_bytes is 7 but 6 bytes follow the header/);
  const longer = new Uint8Array(b.length + 1);
  longer.set(b);
  refused(longer, /1 trailing bytes after the 7-byte payload/);
});

test('qbc: refuses a payload whose SHA-256 differs from the header', () => {
  const b = handMade(bytes('payload'));
  for (let i = 104; i < b.length; i++) {
    const bad = b.slice();
    bad[i] ^= 0x01;
    refused(bad, /SHA-256 of header and payload does not match/);
  }
  const badHash = b.slice();
  badHash[72] ^= 0x80;
  refused(badHash, /SHA-256 of header and payload does not match/);
});
