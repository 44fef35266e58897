/* A/B slots on a block device: the on-disk layout (header, two state copies, slot A, slot B) and a SlotStore over it, shared by the host and the seL4 port. */
#ifndef COHESIX_FIRMWARE_SLOT_DISK_H
#define COHESIX_FIRMWARE_SLOT_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"

/*
 * Layout (docs/slots.md "On a disk"; kept in sync with host/image/slot-disk.ts), 512-byte sectors, LE:
 *   LBA 0         header: magic, version, sector size, where the state copies and slots are, check
 *   LBA 1, 2      the state record, two copies: magic, sequence, each slot's image length, the
 *                 canonical text record of slots.h, SHA-256 of all that. The newest valid copy
 *                 wins; a write goes to the other one, so a torn write leaves the previous state.
 *   LBA 8 ...     slot A (slot_sectors), then slot B (slot_sectors)
 */
#define SLOT_DISK_SECTOR_BYTES 512u
#define SLOT_DISK_MAGIC "COHSLOTS"
#define SLOT_DISK_STATE_MAGIC "COHSTATE"
#define SLOT_DISK_MAGIC_BYTES 8u
#define SLOT_DISK_VERSION 1u
#define SLOT_DISK_STATE_COPIES 2u
#define SLOT_DISK_FIRST_SLOT_LBA 8u
/* Default slot size: one IMAGE_BYTES_MAX image (firmware/image.h, 16 MiB) per slot. */
#define SLOT_DISK_SLOT_SECTORS_DEFAULT ((16u << 20) / SLOT_DISK_SECTOR_BYTES)
/* Header fields end here; then the first 8 bytes of their SHA-256. */
#define SLOT_DISK_HEADER_FIELDS_BYTES 56u
#define SLOT_DISK_HEADER_CHECK_BYTES 8u
/* State copy: magic 8, seq u64, image_bytes[A] u32, image_bytes[B] u32, rec_len u32, rec 128, then SHA-256 32. */
#define SLOT_DISK_STATE_REC_OFFSET 28u
#define SLOT_DISK_STATE_FIELDS_BYTES (SLOT_DISK_STATE_REC_OFFSET + SLOT_STATE_BYTES_MAX)
#define SLOT_DISK_STATE_CHECK_BYTES 32u
/* Sectors one read of whole sectors asks the device for (1 MiB): bounds a device call, not the image. */
#define SLOT_DISK_READ_SECTORS_MAX 2048u

/* The device, as the slot code needs it: whole sectors, and a flush that makes writes durable. */
typedef struct BlockDev {
  void *ctx;
  uint64_t sectors;
  int (*read)(void *ctx, uint64_t lba, uint8_t *buf, uint32_t count);        /* 0 or -1 */
  int (*write)(void *ctx, uint64_t lba, const uint8_t *buf, uint32_t count); /* 0 or -1 */
  int (*flush)(void *ctx);                                                   /* 0 or -1 */
} BlockDev;

typedef struct SlotDisk {
  const BlockDev *dev;
  uint64_t state_lba[SLOT_DISK_STATE_COPIES];
  uint64_t slot_lba[3]; /* by SlotId; [SLOT_NONE] unused */
  uint64_t slot_sectors;
  /* From the newest valid state copy (none: seq 0, newest -1, no record, empty slots). */
  uint64_t seq;
  int newest;
  uint32_t image_bytes[3];
  char rec[SLOT_STATE_BYTES_MAX];
  size_t rec_len; /* 0: no record yet */
  char why[160];  /* what open found (a copy torn or rotted), for the boot log */
} SlotDisk;

/* Writes a fresh layout with slots of slot_sectors each: header, both copies empty (no record, no images). */
int slot_disk_format(const BlockDev *dev, uint64_t slot_sectors, char *err, size_t err_len);
/* Reads the header and both state copies; the newest valid copy becomes the state. -1 with err when the
   header is missing or bad (not a slot disk: the firmware boots its factory image). */
int slot_disk_open(SlotDisk *d, const BlockDev *dev, char *err, size_t err_len);
/* A SlotStore (firmware/slots.h) over the disk: the record lives in the state copies, a slot holds an
   image when its recorded length is not 0. */
void slot_disk_store(SlotDisk *d, SlotStore *store);
/* Records the length of the image in slot s (0: empty), keeping the state record as it is. */
int slot_disk_set_image_bytes(SlotDisk *d, SlotId s, uint32_t bytes, char *err, size_t err_len);
/* Raw slot bytes: write and read, bounded by the slot's size; slot_disk_flush makes the writes durable. */
int slot_disk_write_image(SlotDisk *d, SlotId s, uint64_t offset, const uint8_t *data, size_t len, char *err, size_t err_len);
int slot_disk_flush(SlotDisk *d, char *err, size_t err_len);
int slot_disk_read_image(SlotDisk *d, SlotId s, uint64_t offset, uint8_t *buf, size_t len, char *err, size_t err_len);
/* Encodes one state copy into a sector (exposed for the torn-write tests and host/image/slot-disk.ts's vectors). */
void slot_disk_encode_state(uint8_t sector[SLOT_DISK_SECTOR_BYTES], uint64_t seq, const uint32_t image_bytes[3], const char *rec,
                            size_t rec_len);
/* Decodes one state copy; -1 if torn, rotted or not a copy. */
int slot_disk_decode_state(const uint8_t sector[SLOT_DISK_SECTOR_BYTES], uint64_t *seq, uint32_t image_bytes[3], char *rec,
                           size_t *rec_len);

#endif
