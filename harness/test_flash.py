# test_flash: cohimg flash writes, reads back and compares; an interrupted flash is caught by cohimg verify.
import os
import stat

import image_kit
from hivekit import BUILD, cohimg

JS_TESTS_IMAGE = BUILD / "images" / "js-tests.img"  # the largest image the build makes (several flash chunks)
FLASH_CHUNK_BYTES = 64 * 1024  # FLASH_CHUNK_BYTES in host/image/flash.ts
ERASED = b"\xff"


def test_flash_to_a_loop_file_is_byte_exact(dev_image, tmp_path):
    target = tmp_path / "card.bin"
    target.write_bytes(ERASED * (3 * len(dev_image.read_bytes())))  # an old, longer content: must not linger
    r = cohimg("flash", str(dev_image), "--to", str(target))
    assert target.read_bytes() == dev_image.read_bytes()
    assert f"wrote {len(dev_image.read_bytes())} bytes to {target} (file)" in r.stdout
    assert "read back and compared: identical" in r.stdout
    assert cohimg("verify", str(target)).returncode == 0


def test_flash_creates_a_missing_file(dev_image, tmp_path):
    target = tmp_path / "new.bin"
    cohimg("flash", str(dev_image), "--to", str(target))
    assert target.read_bytes() == dev_image.read_bytes()


def test_interrupted_flash_is_detected_by_verify(tmp_path):
    image = JS_TESTS_IMAGE.read_bytes()
    assert len(image) > 2 * FLASH_CHUNK_BYTES, "the test needs an image of several chunks"
    target = tmp_path / "card.bin"
    target.write_bytes(ERASED * len(image))
    # The process SIGKILLs itself once the first chunk is on disk: a power cut mid-write.
    r = cohimg("flash", str(JS_TESTS_IMAGE), "--to", str(target), env={"COHIMG_KILL_AT": f"flash-bytes:{FLASH_CHUNK_BYTES}"},
               check=False)
    assert r.returncode == -9, r.stderr
    data = target.read_bytes()
    assert data[:FLASH_CHUNK_BYTES] == image[:FLASH_CHUNK_BYTES] and data != image
    v = cohimg("verify", str(target), check=False)
    assert v.returncode == 1
    assert v.stderr.startswith(f"cohimg verify: {target}: "), v.stderr


def test_flash_refuses_bad_targets_and_bad_images(dev_image, tmp_path):
    r = cohimg("flash", str(dev_image), "--to", str(tmp_path), check=False)
    assert r.returncode == 1
    assert r.stderr == f"cohimg flash: flash target {tmp_path} is neither a regular file nor a block device\n"
    r = cohimg("flash", str(dev_image), "--to", "/dev/null", check=False)
    assert r.returncode == 1 and "is neither a regular file nor a block device" in r.stderr
    bad = tmp_path / "bad.img"
    data = bytearray(dev_image.read_bytes())
    worker = image_kit.unpack(bytes(data))[-1]
    data[worker.offset + len(worker.data) - 1] ^= 0x01
    bad.write_bytes(data)
    target = tmp_path / "t.bin"
    r = cohimg("flash", str(bad), "--to", str(target), check=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"cohimg flash: refusing to write a bad image: {bad}: worker-heart.qbc: sha256 ")
    assert not target.exists(), "nothing is written for an image that does not verify"
    r = cohimg("flash", str(dev_image), check=False)
    assert r.returncode == 2 and "flash: --to <file-or-block-device> is required" in r.stderr


def test_keygen_private_key_is_0600_and_never_overwritten(tmp_path):
    cohimg("keygen", "--out", str(tmp_path / "k"))
    assert stat.S_IMODE(os.stat(tmp_path / "k.key").st_mode) == 0o600
    assert (tmp_path / "k.pub").read_text().startswith("cohesix-pubkey ed25519 ")
    r = cohimg("keygen", "--out", str(tmp_path / "k"), check=False)
    assert r.returncode == 1 and "exists; pass --force" in r.stderr
