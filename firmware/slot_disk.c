/* A/B slots on a block device: header, two sequence-numbered state copies (a torn write leaves the previous one), slot A, slot B. */
#include "slot_disk.h"

#include <stdio.h>
#include <string.h>

#include "error_text.h"
#include "sha256.h"

/* Every refusal here reads "slot disk: <detail>". */
#define fail(err, err_len, ...) error_text((err), (err_len), "slot disk: ", __VA_ARGS__)

static void put32(uint8_t *p, uint32_t v) {
  for (unsigned i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (unsigned i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (unsigned i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

void slot_disk_encode_state(uint8_t sector[SLOT_DISK_SECTOR_BYTES], uint64_t seq, const uint32_t image_bytes[3], const char *rec,
                            size_t rec_len) {
  memset(sector, 0, SLOT_DISK_SECTOR_BYTES);
  memcpy(sector, SLOT_DISK_STATE_MAGIC, SLOT_DISK_MAGIC_BYTES);
  put64(sector + 8, seq);
  put32(sector + 16, image_bytes[SLOT_A]);
  put32(sector + 20, image_bytes[SLOT_B]);
  put32(sector + 24, (uint32_t)rec_len);
  memcpy(sector + SLOT_DISK_STATE_REC_OFFSET, rec, rec_len);
  sha256(sector, SLOT_DISK_STATE_FIELDS_BYTES, sector + SLOT_DISK_STATE_FIELDS_BYTES);
}

int slot_disk_decode_state(const uint8_t sector[SLOT_DISK_SECTOR_BYTES], uint64_t *seq, uint32_t image_bytes[3], char *rec,
                           size_t *rec_len) {
  uint8_t d[SHA256_DIGEST_BYTES];
  if (memcmp(sector, SLOT_DISK_STATE_MAGIC, SLOT_DISK_MAGIC_BYTES) != 0) return -1;
  sha256(sector, SLOT_DISK_STATE_FIELDS_BYTES, d);
  if (memcmp(d, sector + SLOT_DISK_STATE_FIELDS_BYTES, SLOT_DISK_STATE_CHECK_BYTES) != 0) return -1;
  uint32_t n = get32(sector + 24);
  if (n > SLOT_STATE_BYTES_MAX) return -1;
  *seq = get64(sector + 8);
  image_bytes[SLOT_NONE] = 0;
  image_bytes[SLOT_A] = get32(sector + 16);
  image_bytes[SLOT_B] = get32(sector + 20);
  memcpy(rec, sector + SLOT_DISK_STATE_REC_OFFSET, n);
  *rec_len = n;
  return 0;
}

int slot_disk_format(const BlockDev *dev, uint64_t slot_sectors, char *err, size_t err_len) {
  uint64_t need = SLOT_DISK_FIRST_SLOT_LBA + 2 * slot_sectors;
  if (slot_sectors == 0 || dev->sectors < need)
    return fail(err, err_len, "a disk of %llu sectors has no room for two slots of %llu sectors (needs %llu)",
                (unsigned long long)dev->sectors, (unsigned long long)slot_sectors, (unsigned long long)need);
  uint8_t s[SLOT_DISK_SECTOR_BYTES];
  memset(s, 0, sizeof s);
  memcpy(s, SLOT_DISK_MAGIC, SLOT_DISK_MAGIC_BYTES);
  put32(s + 8, SLOT_DISK_VERSION);
  put32(s + 12, SLOT_DISK_SECTOR_BYTES);
  put64(s + 16, 1);
  put64(s + 24, 2);
  put64(s + 32, SLOT_DISK_FIRST_SLOT_LBA);
  put64(s + 40, SLOT_DISK_FIRST_SLOT_LBA + slot_sectors);
  put64(s + 48, slot_sectors);
  uint8_t d[SHA256_DIGEST_BYTES];
  sha256(s, SLOT_DISK_HEADER_FIELDS_BYTES, d);
  memcpy(s + SLOT_DISK_HEADER_FIELDS_BYTES, d, SLOT_DISK_HEADER_CHECK_BYTES);
  /* Both copies first (zeroed: neither valid), then the header, so a half-formatted disk has no header. */
  uint8_t zero[SLOT_DISK_SECTOR_BYTES];
  memset(zero, 0, sizeof zero);
  if (dev->write(dev->ctx, 1, zero, 1) < 0 || dev->write(dev->ctx, 2, zero, 1) < 0 || dev->flush(dev->ctx) < 0 ||
      dev->write(dev->ctx, 0, s, 1) < 0 || dev->flush(dev->ctx) < 0)
    return fail(err, err_len, "cannot write the layout");
  return 0;
}

int slot_disk_open(SlotDisk *d, const BlockDev *dev, char *err, size_t err_len) {
  memset(d, 0, sizeof *d);
  d->dev = dev;
  d->newest = -1;
  uint8_t s[SLOT_DISK_SECTOR_BYTES], dg[SHA256_DIGEST_BYTES];
  if (dev->sectors < SLOT_DISK_FIRST_SLOT_LBA || dev->read(dev->ctx, 0, s, 1) < 0) return fail(err, err_len, "cannot read the header");
  if (memcmp(s, SLOT_DISK_MAGIC, SLOT_DISK_MAGIC_BYTES) != 0) return fail(err, err_len, "no %s header: not a slot disk", SLOT_DISK_MAGIC);
  sha256(s, SLOT_DISK_HEADER_FIELDS_BYTES, dg);
  if (memcmp(dg, s + SLOT_DISK_HEADER_FIELDS_BYTES, SLOT_DISK_HEADER_CHECK_BYTES) != 0) return fail(err, err_len, "header check differs (corrupted)");
  if (get32(s + 8) != SLOT_DISK_VERSION || get32(s + 12) != SLOT_DISK_SECTOR_BYTES)
    return fail(err, err_len, "header: version %u, sector %u bytes; this firmware reads version %u, %u bytes", get32(s + 8), get32(s + 12),
                SLOT_DISK_VERSION, SLOT_DISK_SECTOR_BYTES);
  d->state_lba[0] = get64(s + 16);
  d->state_lba[1] = get64(s + 24);
  d->slot_lba[SLOT_A] = get64(s + 32);
  d->slot_lba[SLOT_B] = get64(s + 40);
  d->slot_sectors = get64(s + 48);
  for (unsigned i = 0; i < SLOT_DISK_STATE_COPIES; i++)
    if (d->state_lba[i] == 0 || d->state_lba[i] >= SLOT_DISK_FIRST_SLOT_LBA) return fail(err, err_len, "header: state copy %u at a bad sector", i);
  if (d->slot_sectors == 0 || d->slot_lba[SLOT_A] < SLOT_DISK_FIRST_SLOT_LBA || d->slot_lba[SLOT_B] < d->slot_lba[SLOT_A] + d->slot_sectors ||
      d->slot_lba[SLOT_B] + d->slot_sectors > dev->sectors)
    return fail(err, err_len, "header: slots do not fit the disk");
  int valid = 0;
  for (unsigned i = 0; i < SLOT_DISK_STATE_COPIES; i++) {
    uint64_t seq;
    uint32_t lens[3];
    char rec[SLOT_STATE_BYTES_MAX];
    size_t rec_len;
    if (dev->read(dev->ctx, d->state_lba[i], s, 1) < 0 || slot_disk_decode_state(s, &seq, lens, rec, &rec_len) < 0) continue;
    valid++;
    if (d->newest >= 0 && seq <= d->seq) continue;
    d->newest = (int)i;
    d->seq = seq;
    memcpy(d->image_bytes, lens, sizeof lens);
    memcpy(d->rec, rec, rec_len);
    d->rec_len = rec_len;
  }
  if (valid == 1 && d->seq > 1) snprintf(d->why, sizeof d->why, "state copy %d of 2 is torn or unreadable: using copy %d (seq %llu)", 2 - d->newest, d->newest + 1, (unsigned long long)d->seq);
  else if (valid == 0) snprintf(d->why, sizeof d->why, "no valid state copy: the slots are empty");
  /* A recorded length past the slot means a rotted copy that still checks: treat that slot as empty. */
  for (SlotId sl = SLOT_A; sl <= SLOT_B; sl++)
    if ((uint64_t)d->image_bytes[sl] > d->slot_sectors * SLOT_DISK_SECTOR_BYTES) d->image_bytes[sl] = 0;
  return 0;
}

/* Writes a new copy over the older one (never the newest), flushes, and only then takes it as the state. */
static int write_copy(SlotDisk *d, const char *rec, size_t rec_len, const uint32_t lens[3], char *err, size_t err_len) {
  unsigned target = d->newest == 0 ? 1u : 0u;
  uint8_t s[SLOT_DISK_SECTOR_BYTES];
  slot_disk_encode_state(s, d->seq + 1, lens, rec, rec_len);
  if (d->dev->write(d->dev->ctx, d->state_lba[target], s, 1) < 0 || d->dev->flush(d->dev->ctx) < 0)
    return fail(err, err_len, "cannot write state copy %u", target + 1);
  d->seq++;
  d->newest = (int)target;
  memcpy(d->image_bytes, lens, sizeof d->image_bytes);
  memmove(d->rec, rec, rec_len);
  d->rec_len = rec_len;
  return 0;
}

static int disk_read_state(void *ctx, char *buf, size_t cap, size_t *len, char *err, size_t err_len) {
  SlotDisk *d = ctx;
  if (d->rec_len == 0) return 1;
  size_t n = d->rec_len < cap ? d->rec_len : cap;
  memcpy(buf, d->rec, n);
  *len = n;
  return 0;
}

static int disk_write_state(void *ctx, const char *buf, size_t len, char *err, size_t err_len) {
  SlotDisk *d = ctx;
  if (len == 0 || len > SLOT_STATE_BYTES_MAX) return fail(err, err_len, "state record of %zu bytes", len);
  uint32_t lens[3];
  memcpy(lens, d->image_bytes, sizeof lens);
  return write_copy(d, buf, len, lens, err, err_len);
}

static int disk_has_image(void *ctx, SlotId s) { return (s == SLOT_A || s == SLOT_B) && ((SlotDisk *)ctx)->image_bytes[s] > 0; }

void slot_disk_store(SlotDisk *d, SlotStore *store) { *store = (SlotStore){d, disk_read_state, disk_write_state, disk_has_image}; }

int slot_disk_set_image_bytes(SlotDisk *d, SlotId s, uint32_t bytes, char *err, size_t err_len) {
  if (s != SLOT_A && s != SLOT_B) return fail(err, err_len, "no slot named");
  if ((uint64_t)bytes > d->slot_sectors * SLOT_DISK_SECTOR_BYTES) return fail(err, err_len, "%u bytes do not fit slot %c", (unsigned)bytes, slot_name(s));
  uint32_t lens[3];
  memcpy(lens, d->image_bytes, sizeof lens);
  lens[s] = bytes;
  return write_copy(d, d->rec, d->rec_len, lens, err, err_len);
}

static int check_range(const SlotDisk *d, SlotId s, uint64_t offset, size_t len, char *err, size_t err_len) {
  if (s != SLOT_A && s != SLOT_B) return fail(err, err_len, "no slot named");
  uint64_t slot_bytes = d->slot_sectors * SLOT_DISK_SECTOR_BYTES;
  /* Written so that no sum wraps: a huge len is past the end too. */
  if (len > slot_bytes || offset > slot_bytes - len) return fail(err, err_len, "past the end of slot %c", slot_name(s));
  return 0;
}

int slot_disk_write_image(SlotDisk *d, SlotId s, uint64_t offset, const uint8_t *data, size_t len, char *err, size_t err_len) {
  if (check_range(d, s, offset, len, err, err_len) < 0) return -1;
  uint8_t sec[SLOT_DISK_SECTOR_BYTES];
  while (len) {
    uint64_t lba = d->slot_lba[s] + offset / SLOT_DISK_SECTOR_BYTES;
    size_t in = (size_t)(offset % SLOT_DISK_SECTOR_BYTES), n = SLOT_DISK_SECTOR_BYTES - in;
    if (n > len) n = len;
    /* A partial sector is read, patched and written whole: the device takes sectors only. */
    if (n < SLOT_DISK_SECTOR_BYTES && d->dev->read(d->dev->ctx, lba, sec, 1) < 0) return fail(err, err_len, "cannot read sector %llu", (unsigned long long)lba);
    memcpy(sec + in, data, n);
    if (d->dev->write(d->dev->ctx, lba, sec, 1) < 0) return fail(err, err_len, "cannot write sector %llu", (unsigned long long)lba);
    data += n;
    offset += n;
    len -= n;
  }
  return 0;
}

int slot_disk_flush(SlotDisk *d, char *err, size_t err_len) {
  return d->dev->flush(d->dev->ctx) < 0 ? fail(err, err_len, "cannot flush the disk") : 0;
}

int slot_disk_read_image(SlotDisk *d, SlotId s, uint64_t offset, uint8_t *buf, size_t len, char *err, size_t err_len) {
  if (check_range(d, s, offset, len, err, err_len) < 0) return -1;
  uint8_t sec[SLOT_DISK_SECTOR_BYTES];
  while (len) {
    uint64_t lba = d->slot_lba[s] + offset / SLOT_DISK_SECTOR_BYTES;
    size_t in = (size_t)(offset % SLOT_DISK_SECTOR_BYTES), n = SLOT_DISK_SECTOR_BYTES - in;
    if (n > len) n = len;
    if (in == 0 && len >= SLOT_DISK_SECTOR_BYTES) {
      /* Whole sectors straight into buf, in one device call: a boot reads an image in a few requests. */
      uint64_t count = len / SLOT_DISK_SECTOR_BYTES;
      if (count > SLOT_DISK_READ_SECTORS_MAX) count = SLOT_DISK_READ_SECTORS_MAX;
      n = (size_t)count * SLOT_DISK_SECTOR_BYTES;
      if (d->dev->read(d->dev->ctx, lba, buf, (uint32_t)count) < 0)
        return fail(err, err_len, "cannot read sectors %llu..%llu", (unsigned long long)lba, (unsigned long long)(lba + count - 1));
    } else {
      if (d->dev->read(d->dev->ctx, lba, sec, 1) < 0) return fail(err, err_len, "cannot read sector %llu", (unsigned long long)lba);
      memcpy(buf, sec + in, n);
    }
    buf += n;
    offset += n;
    len -= n;
  }
  return 0;
}
