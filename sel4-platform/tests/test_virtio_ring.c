/* Split virtqueue tests: sizes and memory refused, chains on the avail ring, used entries free their
 * descriptors, a full ring refuses deterministically, a device naming a stray id is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_ring.h"

#define QSIZE 8u

static _Alignas(16) uint8_t g_desc[VIRTQ_SIZE_MAX * 16];
static _Alignas(16) uint8_t g_avail[4096];
static _Alignas(16) uint8_t g_used[4096];
static Virtq g_q;

static VirtqMem mem(void) { return (VirtqMem){g_desc, 0x1000, g_avail, 0x2000, g_used, 0x3000}; }

static int setup(void **state) {
  (void)state;
  return virtq_init(&g_q, QSIZE, mem());
}

/* The device's side, by hand: return head with len. */
static void device_returns(uint16_t head, uint32_t len) {
  VirtqUsed *u = (VirtqUsed *)g_used;
  u->ring[u->idx % QSIZE] = (VirtqUsedElem){head, len};
  u->idx++;
}

static int c1, c2, c3;

static void test_virtq_refuses_sizes_that_are_not_powers_of_two_or_too_big(void **state) {
  (void)state;
  Virtq q;
  assert_int_equal(virtq_init(&q, 0, mem()), VIRTQ_E_SIZE);
  assert_int_equal(virtq_init(&q, 6, mem()), VIRTQ_E_SIZE);
  assert_int_equal(virtq_init(&q, (uint16_t)(VIRTQ_SIZE_MAX * 2u), mem()), VIRTQ_E_SIZE);
  assert_int_equal(virtq_init(&q, VIRTQ_SIZE_MAX, mem()), 0);
}

static void test_virtq_refuses_missing_or_misaligned_memory(void **state) {
  (void)state;
  Virtq q;
  VirtqMem m = mem();
  m.used = NULL;
  assert_int_equal(virtq_init(&q, QSIZE, m), VIRTQ_E_MEM);
  m = mem();
  m.avail = g_avail + 2;
  assert_int_equal(virtq_init(&q, QSIZE, m), VIRTQ_E_MEM);
  m = mem();
  m.desc_paddr = 0x1008;
  assert_int_equal(virtq_init(&q, QSIZE, m), VIRTQ_E_MEM);
}

static void test_virtq_chain_lands_on_avail_ring_device_readable_first(void **state) {
  (void)state;
  VirtqBuf bufs[2] = {{0x10000, 12, 0}, {0x20000, 100, 1}};
  int head = virtq_add(&g_q, bufs, 2, &c1);
  assert_true(head >= 0);
  assert_int_equal(virtq_free_count(&g_q), QSIZE - 2);
  VirtqAvail *a = (VirtqAvail *)g_avail;
  assert_int_equal(a->idx, 1);
  assert_int_equal(a->ring[0], head);
  VirtqDesc *d = (VirtqDesc *)g_desc;
  assert_int_equal(d[head].addr, 0x10000);
  assert_int_equal(d[head].flags, VIRTQ_DESC_F_NEXT);
  uint16_t second = d[head].next;
  assert_int_equal(d[second].addr, 0x20000);
  assert_int_equal(d[second].flags, VIRTQ_DESC_F_WRITE);
  assert_true(virtq_kick_wanted(&g_q));
  assert_false(virtq_kick_wanted(&g_q)); /* nothing new since */
}

static void test_virtq_used_entry_returns_cookie_and_frees_chain(void **state) {
  (void)state;
  VirtqBuf bufs[3] = {{0x1, 1, 0}, {0x2, 2, 0}, {0x3, 3, 1}};
  int head = virtq_add(&g_q, bufs, 3, &c2);
  void *cookie = NULL;
  uint32_t len = 0;
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), 0);
  device_returns((uint16_t)head, 3);
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), 1);
  assert_ptr_equal(cookie, &c2);
  assert_int_equal(len, 3);
  assert_int_equal(virtq_free_count(&g_q), QSIZE);
}

static void test_virtq_full_ring_is_busy_and_changes_nothing(void **state) {
  (void)state;
  VirtqBuf b = {0x1000, 64, 0};
  for (unsigned i = 0; i < QSIZE; i++) assert_true(virtq_add(&g_q, &b, 1, &c1) >= 0);
  uint16_t idx = ((VirtqAvail *)g_avail)->idx;
  assert_int_equal(virtq_add(&g_q, &b, 1, &c1), VIRTQ_E_FULL);
  assert_int_equal(virtq_add(&g_q, &b, 1, &c1), VIRTQ_E_FULL); /* deterministic: same answer again */
  assert_int_equal(((VirtqAvail *)g_avail)->idx, idx);
  device_returns(3, 0);
  void *cookie;
  uint32_t len;
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), 1);
  assert_true(virtq_add(&g_q, &b, 1, &c3) == 3); /* the freed descriptor is the one reused */
}

static void test_virtq_chain_longer_than_free_is_busy_and_bad_chains_refused(void **state) {
  (void)state;
  VirtqBuf b[VIRTQ_CHAIN_MAX + 1] = {{1, 1, 0}, {2, 1, 0}, {3, 1, 0}, {4, 1, 0}, {5, 1, 0}};
  assert_int_equal(virtq_add(&g_q, b, 0, &c1), VIRTQ_E_CHAIN);
  assert_int_equal(virtq_add(&g_q, b, VIRTQ_CHAIN_MAX + 1, &c1), VIRTQ_E_CHAIN);
  assert_int_equal(virtq_add(&g_q, b, 1, NULL), VIRTQ_E_CHAIN);
  VirtqBuf empty = {1, 0, 0};
  assert_int_equal(virtq_add(&g_q, &empty, 1, &c1), VIRTQ_E_CHAIN);
  for (unsigned i = 0; i < QSIZE - 2; i++) assert_true(virtq_add(&g_q, b, 1, &c1) >= 0);
  assert_int_equal(virtq_add(&g_q, b, 3, &c1), VIRTQ_E_FULL);
  assert_int_equal(virtq_free_count(&g_q), 2);
}

static void test_virtq_device_naming_an_id_not_in_flight_is_caught(void **state) {
  (void)state;
  VirtqBuf b = {0x1000, 64, 0};
  int head = virtq_add(&g_q, &b, 1, &c1);
  device_returns(7, 0);                  /* never handed out */
  device_returns(QSIZE + 5, 0);          /* not even a descriptor */
  device_returns((uint16_t)head, 64);
  void *cookie;
  uint32_t len;
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), VIRTQ_E_DEVICE);
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), VIRTQ_E_DEVICE);
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), 1);
  assert_ptr_equal(cookie, &c1);
  device_returns((uint16_t)head, 64); /* the same id twice: the second is not in flight */
  assert_int_equal(virtq_take_used(&g_q, &cookie, &len), VIRTQ_E_DEVICE);
  assert_int_equal(virtq_free_count(&g_q), QSIZE);
}

static void test_virtq_indices_wrap_past_65536(void **state) {
  (void)state;
  VirtqBuf b = {0x1000, 64, 0};
  for (uint32_t i = 0; i < 70000u; i++) {
    int head = virtq_add(&g_q, &b, 1, &c1);
    assert_true(head >= 0);
    device_returns((uint16_t)head, (uint32_t)i);
    void *cookie;
    uint32_t len;
    assert_int_equal(virtq_take_used(&g_q, &cookie, &len), 1);
    assert_int_equal(len, i);
  }
  assert_int_equal(((VirtqAvail *)g_avail)->idx, (uint16_t)70000u);
  assert_int_equal(virtq_free_count(&g_q), QSIZE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_virtq_refuses_sizes_that_are_not_powers_of_two_or_too_big),
      cmocka_unit_test(test_virtq_refuses_missing_or_misaligned_memory),
      cmocka_unit_test_setup(test_virtq_chain_lands_on_avail_ring_device_readable_first, setup),
      cmocka_unit_test_setup(test_virtq_used_entry_returns_cookie_and_frees_chain, setup),
      cmocka_unit_test_setup(test_virtq_full_ring_is_busy_and_changes_nothing, setup),
      cmocka_unit_test_setup(test_virtq_chain_longer_than_free_is_busy_and_bad_chains_refused, setup),
      cmocka_unit_test_setup(test_virtq_device_naming_an_id_not_in_flight_is_caught, setup),
      cmocka_unit_test_setup(test_virtq_indices_wrap_past_65536, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
