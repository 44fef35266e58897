# image_kit: reads and rewrites hive images (CPIO newc) and .qbc headers so tests can forge refusals.
"""Byte-level helpers for the negative tests.

The layout is docs/image-format.md; the constants below are copied from it (and from
engine/port/qbc.h, firmware/image.c). test_image_kit.py checks that unpack + pack reproduces a
cohimg-built image byte for byte, so a refusal seen in a test comes from the edit it makes, not
from this writer.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

# CPIO newc (docs/image-format.md "Image: CPIO newc").
CPIO_MAGIC = b"070701"
CPIO_HEADER_BYTES = 110
CPIO_FIELD_COUNT = 13  # after the magic: 13 fields of 8 hex digits
CPIO_ALIGN_BYTES = 4
CPIO_ENTRY_MODE = 0o100644
CPIO_TRAILER = "TRAILER!!!"
CPIO_BLOCK_BYTES = 512  # an image ends on a CPIO block boundary
# Bound on entries read, as the firmware's IMAGE_ENTRIES_MAX.
IMAGE_ENTRIES_MAX = 64

# .qbc header (docs/image-format.md ".qbc: one task's bytecode", engine/port/qbc.h).
QBC_HEADER_BYTES = 104
QBC_FINGERPRINT_OFFSET = 32
QBC_FINGERPRINT_BYTES = 32
QBC_DIGEST_OFFSET = 72
QBC_DIGEST_BYTES = 32

MANIFEST_ENTRY = "manifest.json"


@dataclass
class Entry:
    name: str
    data: bytes
    offset: int  # where the data starts in the image file


def _pad(n: int, align: int) -> int:
    return (align - n % align) % align


def unpack(image: bytes) -> list[Entry]:
    """Entries in image order, trailer excluded. Raises ValueError on anything malformed."""
    entries: list[Entry] = []
    o = 0
    for _ in range(IMAGE_ENTRIES_MAX + 1):
        head = image[o : o + CPIO_HEADER_BYTES]
        if len(head) < CPIO_HEADER_BYTES or head[:6] != CPIO_MAGIC:
            raise ValueError(f"no CPIO header at offset {o}")
        fields = [int(head[6 + 8 * i : 14 + 8 * i], 16) for i in range(CPIO_FIELD_COUNT)]
        filesize, namesize = fields[6], fields[11]
        name_at = o + CPIO_HEADER_BYTES
        name = image[name_at : name_at + namesize - 1].decode()
        data_at = name_at + namesize + _pad(CPIO_HEADER_BYTES + namesize, CPIO_ALIGN_BYTES)
        if name == CPIO_TRAILER:
            return entries
        entries.append(Entry(name, bytes(image[data_at : data_at + filesize]), data_at))
        o = data_at + filesize + _pad(filesize, CPIO_ALIGN_BYTES)
    raise ValueError(f"more than {IMAGE_ENTRIES_MAX} entries")


def _header(name: str, size: int, mode: int) -> bytes:
    namesize = len(name.encode()) + 1
    # ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    fields = [0, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0]
    head = CPIO_MAGIC + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    return head + b"\0" * _pad(len(head), CPIO_ALIGN_BYTES)


def pack(entries: list[tuple[str, bytes]]) -> bytes:
    """A CPIO newc archive as cohimg writes it: entries, trailer, NUL padding to 512 bytes."""
    out = bytearray()
    for name, data in entries:
        out += _header(name, len(data), CPIO_ENTRY_MODE) + data + b"\0" * _pad(len(data), CPIO_ALIGN_BYTES)
    out += _header(CPIO_TRAILER, 0, 0)
    out += b"\0" * _pad(len(out), CPIO_BLOCK_BYTES)
    return bytes(out)


def manifest_of(entries: list[Entry]) -> dict:
    assert entries[0].name == MANIFEST_ENTRY, "first entry must be manifest.json"
    return json.loads(entries[0].data)


def repack(entries: list[Entry], manifest: dict, bundles: dict[str, bytes] | None = None) -> bytes:
    """The same image with a replaced manifest (2-space JSON and a newline, as cohimg writes it) and bundles."""
    bundles = bundles or {}
    body = [(MANIFEST_ENTRY, (json.dumps(manifest, indent=2) + "\n").encode())]
    body += [(e.name, bundles.get(e.name, e.data)) for e in entries[1:]]
    return pack(body)


def reseal_qbc(qbc: bytes) -> bytes:
    """Recomputes the .qbc header digest (header bytes 0..71 + payload) after a header edit."""
    digest = hashlib.sha256(qbc[:QBC_DIGEST_OFFSET] + qbc[QBC_HEADER_BYTES:]).digest()
    return qbc[:QBC_DIGEST_OFFSET] + digest + qbc[QBC_DIGEST_OFFSET + QBC_DIGEST_BYTES :]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
