/* The on-disk slot layout over an in-memory block device: round trips, a torn write at every byte of a state copy, and power loss at every write of an install. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slot_disk.h"

#define TEST_SLOT_SECTORS 8u
#define TEST_DISK_SECTORS (SLOT_DISK_FIRST_SLOT_LBA + 2 * TEST_SLOT_SECTORS)
#define TEST_IMAGE_BYTES 1500u

typedef struct MemDisk {
  uint8_t bytes[TEST_DISK_SECTORS * SLOT_DISK_SECTOR_BYTES];
  long writes_left;   /* power is lost at the write that takes it below 0; -1 = never */
  size_t torn_bytes;  /* that write lands only its first torn_bytes bytes */
  int power_lost;
  unsigned writes;
  BlockDev dev;
} MemDisk;

static int mem_read(void *ctx, uint64_t lba, uint8_t *buf, uint32_t count) {
  MemDisk *m = ctx;
  if (lba + count > TEST_DISK_SECTORS) return -1;
  memcpy(buf, m->bytes + lba * SLOT_DISK_SECTOR_BYTES, (size_t)count * SLOT_DISK_SECTOR_BYTES);
  return 0;
}

static int mem_write(void *ctx, uint64_t lba, const uint8_t *buf, uint32_t count) {
  MemDisk *m = ctx;
  if (m->power_lost || lba + count > TEST_DISK_SECTORS) return -1;
  if (m->writes_left == 0) {
    memcpy(m->bytes + lba * SLOT_DISK_SECTOR_BYTES, buf, m->torn_bytes);
    m->power_lost = 1;
    return -1;
  }
  if (m->writes_left > 0) m->writes_left--;
  memcpy(m->bytes + lba * SLOT_DISK_SECTOR_BYTES, buf, (size_t)count * SLOT_DISK_SECTOR_BYTES);
  m->writes++;
  return 0;
}

static int mem_flush(void *ctx) { return ((MemDisk *)ctx)->power_lost ? -1 : 0; }

static MemDisk *new_disk(void) {
  MemDisk *m = calloc(1, sizeof *m);
  m->writes_left = -1;
  m->dev = (BlockDev){m, TEST_DISK_SECTORS, mem_read, mem_write, mem_flush};
  char err[200];
  assert_int_equal(slot_disk_format(&m->dev, TEST_SLOT_SECTORS, err, sizeof err), 0);
  return m;
}

/* Power comes back: the same bytes, a working device. */
static void power_on(MemDisk *m) {
  m->power_lost = 0;
  m->writes_left = -1;
}

static SlotState state_after_open(MemDisk *m, SlotDisk *d, int *has) {
  char err[300], rec[SLOT_STATE_BYTES_MAX + 1];
  assert_int_equal(slot_disk_open(d, &m->dev, err, sizeof err), 0);
  SlotStore st;
  slot_disk_store(d, &st);
  size_t len = 0;
  SlotState s = {SLOT_NONE, SLOT_NONE, 0};
  int r = st.read_state(st.ctx, rec, sizeof rec, &len, err, sizeof err);
  *has = r == 0;
  if (r == 0) assert_int_equal(slot_state_decode(rec, len, &s, err, sizeof err), 0);
  return s;
}

static int write_state(SlotDisk *d, SlotId active, SlotId good, uint32_t attempts) {
  SlotState s = {active, good, attempts};
  char rec[SLOT_STATE_BYTES_MAX + 1], err[300];
  size_t n = slot_state_encode(&s, rec, sizeof rec);
  SlotStore st;
  slot_disk_store(d, &st);
  return st.write_state(st.ctx, rec, n, err, sizeof err);
}

static void format_and_round_trip(void **state) {
  (void)state;
  MemDisk *m = new_disk();
  SlotDisk d;
  int has;
  state_after_open(m, &d, &has);
  assert_false(has);
  assert_int_equal(d.image_bytes[SLOT_A], 0);
  char err[200];
  assert_int_equal(slot_disk_set_image_bytes(&d, SLOT_A, TEST_IMAGE_BYTES, err, sizeof err), 0);
  assert_int_equal(write_state(&d, SLOT_A, SLOT_A, 0), 0);
  SlotDisk again;
  SlotState s = state_after_open(m, &again, &has);
  assert_true(has);
  assert_int_equal(s.active, SLOT_A);
  assert_int_equal(s.last_good, SLOT_A);
  assert_int_equal(again.image_bytes[SLOT_A], TEST_IMAGE_BYTES);
  assert_int_equal(again.seq, 2);
  /* Image bytes at an unaligned offset across sectors read back whole. */
  uint8_t img[TEST_IMAGE_BYTES], back[TEST_IMAGE_BYTES];
  for (unsigned i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 7 + 3);
  assert_int_equal(slot_disk_write_image(&again, SLOT_B, 0, img, 700, err, sizeof err), 0);
  assert_int_equal(slot_disk_write_image(&again, SLOT_B, 700, img + 700, sizeof img - 700, err, sizeof err), 0);
  assert_int_equal(slot_disk_read_image(&again, SLOT_B, 0, back, sizeof back, err, sizeof err), 0);
  assert_memory_equal(img, back, sizeof img);
  /* Reads that start and end mid-sector: the head and tail by sector, the middle in one device call. */
  for (size_t off = 0; off + 32u < sizeof img; off += 101u) {
    size_t len = sizeof img - off - (off % 3u) * 7u;
    memset(back, 0, sizeof back);
    if (slot_disk_read_image(&again, SLOT_B, off, back, len, err, sizeof err) != 0) fail_msg("off %zu len %zu: %s", off, len, err);
    assert_memory_equal(img + off, back, len);
  }
  assert_int_equal(slot_disk_write_image(&again, SLOT_B, TEST_SLOT_SECTORS * SLOT_DISK_SECTOR_BYTES - 10, img, 11, err, sizeof err), -1);
  assert_string_equal(err, "slot disk: past the end of slot B");
  /* A length whose sum with the offset wraps is past the end as well, not a read of the whole disk. */
  assert_int_equal(slot_disk_read_image(&again, SLOT_B, 16, back, SIZE_MAX - 8u, err, sizeof err), -1);
  assert_string_equal(err, "slot disk: past the end of slot B");
  free(m);
}

/* Whatever byte a state write is torn at, the next open finds the previous state or the new one, never neither. */
static void torn_state_write_at_every_byte_leaves_old_or_new(void **state) {
  (void)state;
  for (unsigned nth = 0; nth < 3; nth++) {          /* tear the 1st, 2nd or 3rd write after setup: both copies take a turn */
    for (size_t k = 0; k <= SLOT_DISK_SECTOR_BYTES; k++) {
      MemDisk *m = new_disk();
      SlotDisk d;
      int has;
      state_after_open(m, &d, &has);
      char err[200];
      assert_int_equal(slot_disk_set_image_bytes(&d, SLOT_A, TEST_IMAGE_BYTES, err, sizeof err), 0);
      assert_int_equal(slot_disk_set_image_bytes(&d, SLOT_B, TEST_IMAGE_BYTES, err, sizeof err), 0);
      assert_int_equal(write_state(&d, SLOT_A, SLOT_A, 0), 0);
      /* Writes before the torn one land; each names the slot it makes active, so which one won is seen. */
      static const SlotId seq[3] = {SLOT_B, SLOT_A, SLOT_B};
      for (unsigned i = 0; i < nth; i++) assert_int_equal(write_state(&d, seq[i], SLOT_A, 0), 0);
      SlotId before = nth == 0 ? SLOT_A : seq[nth - 1];
      m->writes_left = 0;
      m->torn_bytes = k;
      int r = write_state(&d, seq[nth], SLOT_A, 0);
      power_on(m);
      SlotDisk after;
      SlotState s = state_after_open(m, &after, &has);
      assert_true(has);
      assert_int_equal(r, -1);
      /* Old or new, never neither; new only once every byte the copy's check covers had landed. */
      if (s.active != before && !(s.active == seq[nth] && k >= SLOT_DISK_STATE_FIELDS_BYTES + SLOT_DISK_STATE_CHECK_BYTES))
        fail_msg("write %u torn at byte %zu: state %c (previous %c)", nth, k, slot_name(s.active), slot_name(before));
      if (k < SLOT_DISK_STATE_FIELDS_BYTES + SLOT_DISK_STATE_CHECK_BYTES) assert_int_equal(s.active, before);
      assert_int_equal(after.image_bytes[SLOT_A], TEST_IMAGE_BYTES);
      assert_int_equal(after.image_bytes[SLOT_B], TEST_IMAGE_BYTES);
      /* And the disk takes writes again. */
      assert_int_equal(write_state(&after, SLOT_B, SLOT_B, 0), 0);
      SlotDisk last;
      assert_int_equal(state_after_open(m, &last, &has).active, SLOT_B);
      free(m);
    }
  }
}

/* Install of a new image into B, as the update capability does it on a disk, with the power lost at every write. */
static void install_with_power_lost_at_every_write_boots_a_whole_image(void **state) {
  (void)state;
  uint8_t a[TEST_IMAGE_BYTES], b[TEST_IMAGE_BYTES], back[TEST_IMAGE_BYTES];
  memset(a, 0xA1, sizeof a);
  memset(b, 0xB2, sizeof b);
  unsigned total = 0;
  for (long cut = 0;; cut++) {
    MemDisk *m = new_disk();
    SlotDisk d;
    int has;
    char err[300];
    state_after_open(m, &d, &has);
    assert_int_equal(slot_disk_write_image(&d, SLOT_A, 0, a, sizeof a, err, sizeof err), 0);
    assert_int_equal(slot_disk_set_image_bytes(&d, SLOT_A, sizeof a, err, sizeof err), 0);
    assert_int_equal(write_state(&d, SLOT_A, SLOT_A, 0), 0);
    unsigned setup = m->writes;
    m->writes_left = cut;
    m->torn_bytes = SLOT_DISK_SECTOR_BYTES / 2;
    SlotStore st;
    slot_disk_store(&d, &st);
    /* 1. B is empty on record, 2. its bytes, 3. its length, 4. it is on trial. */
    int ok = slot_disk_set_image_bytes(&d, SLOT_B, 0, err, sizeof err) == 0 &&
             slot_disk_write_image(&d, SLOT_B, 0, b, sizeof b, err, sizeof err) == 0 && slot_disk_flush(&d, err, sizeof err) == 0 &&
             slot_disk_set_image_bytes(&d, SLOT_B, sizeof b, err, sizeof err) == 0 && slots_mark_trial(&st, SLOT_B, SLOT_A, err, sizeof err) == 0;
    if (ok) total = m->writes - setup;
    power_on(m);
    SlotDisk after;
    state_after_open(m, &after, &has);
    SlotStore st2;
    slot_disk_store(&after, &st2);
    SlotBoot boot;
    assert_int_equal(slots_plan(&st2, &boot, err, sizeof err), 0);
    /* Whatever it picks holds the whole image recorded for it. */
    assert_int_equal(after.image_bytes[boot.slot], TEST_IMAGE_BYTES);
    assert_int_equal(slot_disk_read_image(&after, boot.slot, 0, back, sizeof back, err, sizeof err), 0);
    assert_memory_equal(back, boot.slot == SLOT_A ? a : b, sizeof back);
    /* B only once its trial record landed (a tear past the copy's check lands it whole): on trial, A behind it. */
    if (boot.slot == SLOT_B) assert_true(boot.trial && boot.state.last_good == SLOT_A);
    if (ok) assert_int_equal(boot.slot, SLOT_B);
    free(m);
    if (ok) break;
  }
  assert_true(total > 3);
}

static void not_a_slot_disk_refused(void **state) {
  (void)state;
  MemDisk *m = new_disk();
  SlotDisk d;
  char err[200];
  m->bytes[60] ^= 1; /* the header check */
  assert_int_equal(slot_disk_open(&d, &m->dev, err, sizeof err), -1);
  assert_string_equal(err, "slot disk: header check differs (corrupted)");
  memset(m->bytes, 0, SLOT_DISK_SECTOR_BYTES);
  assert_int_equal(slot_disk_open(&d, &m->dev, err, sizeof err), -1);
  assert_string_equal(err, "slot disk: no COHSLOTS header: not a slot disk");
  BlockDev small = m->dev;
  small.sectors = SLOT_DISK_FIRST_SLOT_LBA + TEST_SLOT_SECTORS;
  assert_int_equal(slot_disk_format(&small, TEST_SLOT_SECTORS, err, sizeof err), -1);
  free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(format_and_round_trip),
      cmocka_unit_test(torn_state_write_at_every_byte_leaves_old_or_new),
      cmocka_unit_test(install_with_power_lost_at_every_write_boots_a_whole_image),
      cmocka_unit_test(not_a_slot_disk_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
