/* The A/B slot state machine over an in-memory store: plan, fallback, refusal, confirm, and power loss at every write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "slots.h"

typedef struct Mem {
  char rec[SLOT_STATE_BYTES_MAX + 1];
  size_t len;
  int has_rec;
  int has[3];
  int fail_writes; /* power lost: the write never lands */
  unsigned writes;
} Mem;

static int mem_read(void *ctx, char *buf, size_t cap, size_t *len, char *err, size_t err_len) {
  (void)err;
  (void)err_len;
  Mem *m = ctx;
  if (!m->has_rec) return 1;
  size_t n = m->len < cap ? m->len : cap;
  memcpy(buf, m->rec, n);
  *len = n;
  return 0;
}

static int mem_write(void *ctx, const char *buf, size_t len, char *err, size_t err_len) {
  Mem *m = ctx;
  if (m->fail_writes) {
    snprintf(err, err_len, "slots: power lost");
    return -1;
  }
  memcpy(m->rec, buf, len);
  m->len = len;
  m->has_rec = 1;
  m->writes++;
  return 0;
}

static int mem_has(void *ctx, SlotId s) { return ((Mem *)ctx)->has[s]; }

static SlotStore store_of(Mem *m) { return (SlotStore){m, mem_read, mem_write, mem_has}; }

static void set_state(Mem *m, SlotId active, SlotId good, uint32_t attempts) {
  SlotState s = {active, good, attempts};
  m->len = slot_state_encode(&s, m->rec, sizeof m->rec);
  m->has_rec = 1;
}

static SlotState state_of(Mem *m) {
  SlotState s;
  char err[200];
  assert_int_equal(slot_state_decode(m->rec, m->len, &s, err, sizeof err), 0);
  return s;
}

static void record_round_trips_and_is_strict(void **state) {
  (void)state;
  char buf[SLOT_STATE_BYTES_MAX + 1], err[200];
  SlotState s = {SLOT_B, SLOT_A, 1}, back;
  size_t n = slot_state_encode(&s, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal(strncmp(buf, "cohesix-slots/v1 active=B last_good=A attempts=1 check=", 55), 0);
  assert_int_equal(slot_state_decode(buf, n, &back, err, sizeof err), 0);
  assert_int_equal(back.active, SLOT_B);
  assert_int_equal(back.last_good, SLOT_A);
  assert_int_equal(back.attempts, 1);
  /* Every single-byte change and every truncation is refused. */
  for (size_t i = 0; i < n; i++) {
    char bad[sizeof buf];
    memcpy(bad, buf, n);
    bad[i] ^= 0x01;
    assert_int_equal(slot_state_decode(bad, n, &back, err, sizeof err), -1);
    assert_int_equal(slot_state_decode(buf, i, &back, err, sizeof err), -1);
  }
}

static void no_record_starts_with_a_and_records_the_attempt(void **state) {
  (void)state;
  Mem m = {.has = {0, 1, 0}};
  SlotStore st = store_of(&m);
  SlotBoot b;
  char err[300];
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_A);
  assert_true(b.trial);
  SlotState s = state_of(&m);
  assert_int_equal(s.attempts, 1);
  assert_int_equal(s.last_good, SLOT_NONE);
  assert_int_equal(slots_confirm(&st, &b, err, sizeof err), 0);
  s = state_of(&m);
  assert_int_equal(s.last_good, SLOT_A);
  assert_int_equal(s.attempts, 0);
  /* The next boot boots the good slot and writes nothing. */
  unsigned w = m.writes;
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_A);
  assert_false(b.trial);
  assert_int_equal(m.writes, w + 1); /* persist is idempotent: same record rewritten */
  assert_string_equal(b.why, "booting last good slot A");
}

static void new_image_that_never_gets_online_falls_back(void **state) {
  (void)state;
  Mem m = {.has = {0, 1, 1}};
  SlotStore st = store_of(&m);
  set_state(&m, SLOT_B, SLOT_A, 0);
  SlotBoot b;
  char err[300];
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_B);
  assert_true(b.trial);
  assert_string_equal(b.why, "trying slot B (boot 1 of 1 before falling back to slot A)");
  /* B hangs or the power goes: no confirm. Next boot: */
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_A);
  assert_false(b.trial);
  assert_string_equal(b.why, "slot B did not reach online in 1 boot: falling back to last good slot A");
  SlotState s = state_of(&m);
  assert_int_equal(s.active, SLOT_A);
  assert_int_equal(s.attempts, 0);
}

/* Over-the-air update: the image goes to the slot not running, and is then tried once with the running slot as fallback. */
static void update_goes_to_the_other_slot_and_is_tried_once(void **state) {
  (void)state;
  assert_int_equal(slots_update_target(SLOT_A), SLOT_B);
  assert_int_equal(slots_update_target(SLOT_B), SLOT_A);
  assert_int_equal(slots_update_target(SLOT_NONE), SLOT_NONE);
  Mem m = {.has = {0, 1, 1}};
  SlotStore st = store_of(&m);
  set_state(&m, SLOT_A, SLOT_A, 0);
  char err[300];
  assert_int_equal(slots_mark_trial(&st, SLOT_A, SLOT_A, err, sizeof err), -1);
  assert_string_equal(err, "slots: mark for trial: slot A is the fallback itself");
  assert_int_equal(m.writes, 0);
  /* Power lost during the one write: the old record stands, the next boot is A again. */
  m.fail_writes = 1;
  assert_int_equal(slots_mark_trial(&st, SLOT_B, SLOT_A, err, sizeof err), -1);
  SlotBoot b;
  m.fail_writes = 0;
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_A);
  assert_int_equal(slots_mark_trial(&st, SLOT_B, SLOT_A, err, sizeof err), 0);
  SlotState s = state_of(&m);
  assert_int_equal(s.active, SLOT_B);
  assert_int_equal(s.last_good, SLOT_A);
  assert_int_equal(s.attempts, 0);
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_B);
  assert_true(b.trial);
  assert_int_equal(slots_confirm(&st, &b, err, sizeof err), 0);
  s = state_of(&m);
  assert_int_equal(s.active, SLOT_B);
  assert_int_equal(s.last_good, SLOT_B);
}

static void refused_image_falls_back_at_once(void **state) {
  (void)state;
  Mem m = {.has = {0, 1, 1}};
  SlotStore st = store_of(&m);
  set_state(&m, SLOT_B, SLOT_A, 0);
  SlotBoot b;
  char err[300];
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(slots_refused(&st, &b, "bad signature", err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_A);
  assert_string_equal(b.why, "slot B refused (bad signature): falling back to last good slot A");
  /* A refused too: nothing left, and the message says so. */
  assert_int_equal(slots_refused(&st, &b, "sha256 differs", err, sizeof err), -1);
  assert_string_equal(err, "slots: slot A refused (sha256 differs), and no other slot holds a bootable image");
}

static void power_loss_at_any_write_never_leaves_only_a_bad_choice(void **state) {
  (void)state;
  /* For each write of an update cycle (plan of B, confirm of B), the power fails at that write; the
     record is then the one before it, and the next plan must pick B on trial or A, never B as good. */
  for (unsigned lose_at = 0; lose_at < 3; lose_at++) {
    Mem m = {.has = {0, 1, 1}};
    SlotStore st = store_of(&m);
    set_state(&m, SLOT_B, SLOT_A, 0);
    SlotBoot b;
    char err[300];
    unsigned step = 0;
    m.fail_writes = step++ == lose_at;
    int planned = slots_plan(&st, &b, err, sizeof err) == 0;
    m.fail_writes = step++ == lose_at;
    if (planned) slots_confirm(&st, &b, err, sizeof err);
    m.fail_writes = 0;
    assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
    SlotState s = state_of(&m);
    assert_true(b.slot == SLOT_A || (b.slot == SLOT_B && (b.trial || s.last_good == SLOT_B)));
    assert_true(s.last_good == SLOT_A || s.last_good == SLOT_B);
  }
}

static void unreadable_record_and_missing_images(void **state) {
  (void)state;
  Mem m = {.has = {0, 0, 1}};
  SlotStore st = store_of(&m);
  memcpy(m.rec, "garbage\n", 8);
  m.len = 8;
  m.has_rec = 1;
  SlotBoot b;
  char err[300];
  assert_int_equal(slots_plan(&st, &b, err, sizeof err), 0);
  assert_int_equal(b.slot, SLOT_B);
  assert_non_null(strstr(b.why, "state record unreadable"));
  Mem empty = {.has = {0, 0, 0}};
  SlotStore es = store_of(&empty);
  assert_int_equal(slots_plan(&es, &b, err, sizeof err), -1);
  assert_string_equal(err, "slots: no state record, and neither slot A nor slot B holds an image");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(record_round_trips_and_is_strict),
      cmocka_unit_test(no_record_starts_with_a_and_records_the_attempt),
      cmocka_unit_test(new_image_that_never_gets_online_falls_back),
      cmocka_unit_test(refused_image_falls_back_at_once),
      cmocka_unit_test(update_goes_to_the_other_slot_and_is_tried_once),
      cmocka_unit_test(power_loss_at_any_write_never_leaves_only_a_bad_choice),
      cmocka_unit_test(unreadable_record_and_missing_images),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
