/* Ring tests: FIFO order, wrap-around, full ring drops new bytes and counts them, bad sizes refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ring.h"

static void test_ring_refuses_size_not_power_of_two(void **state) {
  (void)state;
  uint8_t buf[8];
  ByteRing r;
  assert_int_equal(ring_init(&r, buf, 6), -1);
  assert_int_equal(ring_init(&r, buf, 1), -1);
  assert_int_equal(ring_init(&r, buf, 8), 0);
}

static void test_ring_keeps_order_across_wrap(void **state) {
  (void)state;
  uint8_t buf[8], out[8];
  ByteRing r;
  ring_init(&r, buf, 8);
  for (unsigned round = 0; round < 100; round++) {
    for (uint8_t i = 0; i < 5; i++) assert_int_equal(ring_put(&r, (uint8_t)(round + i)), 0);
    assert_int_equal(ring_used(&r), 5);
    assert_int_equal(ring_get(&r, out, sizeof out), 5);
    for (uint8_t i = 0; i < 5; i++) assert_int_equal(out[i], (uint8_t)(round + i));
  }
  assert_int_equal(r.dropped_bytes, 0);
}

static void test_ring_full_drops_new_bytes(void **state) {
  (void)state;
  uint8_t buf[4], out[8];
  ByteRing r;
  ring_init(&r, buf, 4);
  for (uint8_t i = 0; i < 4; i++) assert_int_equal(ring_put(&r, i), 0);
  assert_int_equal(ring_put(&r, 99), -1);
  assert_int_equal(ring_put(&r, 98), -1);
  assert_int_equal(r.dropped_bytes, 2);
  assert_int_equal(ring_get(&r, out, 2), 2);
  assert_int_equal(out[0], 0);
  assert_int_equal(ring_put(&r, 7), 0);
  assert_int_equal(ring_get(&r, out, 8), 3);
  assert_int_equal(out[0], 2);
  assert_int_equal(out[2], 7);
  assert_int_equal(ring_get(&r, out, 8), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ring_refuses_size_not_power_of_two),
      cmocka_unit_test(test_ring_keeps_order_across_wrap),
      cmocka_unit_test(test_ring_full_drops_new_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
