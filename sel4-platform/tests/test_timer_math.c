/* Timer arithmetic tests: QEMU's 62.5 MHz counter, round trips, no overflow after years, deadlines never early. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timer_math.h"

#define QEMU_VIRT_CNTFRQ_HZ 62500000ull

static void test_timer_converts_qemu_counter(void **state) {
  (void)state;
  assert_int_equal(timer_ticks_to_us(QEMU_VIRT_CNTFRQ_HZ, QEMU_VIRT_CNTFRQ_HZ), 1000000);
  assert_int_equal(timer_ticks_to_us(625, QEMU_VIRT_CNTFRQ_HZ), 10);
  assert_int_equal(timer_us_to_ticks(10, QEMU_VIRT_CNTFRQ_HZ), 625);
}

static void test_timer_no_overflow_after_ten_years(void **state) {
  (void)state;
  uint64_t ten_years_s = 10ull * 365 * 24 * 3600;
  uint64_t ticks = ten_years_s * 1000000000ull; /* a 1 GHz counter */
  assert_int_equal(timer_ticks_to_us(ticks, 1000000000ull), ten_years_s * 1000000ull);
}

static void test_timer_deadline_never_early(void **state) {
  (void)state;
  uint64_t f = 19200000ull; /* 19.2 MHz, not a whole number of ticks per us */
  for (uint64_t us = 0; us < 5000; us += 7) assert_true(timer_ticks_to_us(timer_us_to_ticks(us, f), f) >= us);
}

static void test_timer_zero_frequency_is_zero_not_a_trap(void **state) {
  (void)state;
  assert_int_equal(timer_ticks_to_us(123, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timer_converts_qemu_counter),
      cmocka_unit_test(test_timer_no_overflow_after_ten_years),
      cmocka_unit_test(test_timer_deadline_never_early),
      cmocka_unit_test(test_timer_zero_frequency_is_zero_not_a_trap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
