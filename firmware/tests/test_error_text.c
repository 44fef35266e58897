/* cmocka: the firmware's refusal wording (error_text.c): prefix + detail, cut to the buffer, never past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error_text.h"

static void prefix_then_detail_and_minus_one(void **state) {
  (void)state;
  char err[64];
  assert_int_equal(error_text(err, sizeof err, "image: ", "entry '%s' is %u bytes", "worker.qbc", 7u), -1);
  assert_string_equal(err, "image: entry 'worker.qbc' is 7 bytes");
}

static void detail_longer_than_the_buffer_is_cut_and_terminated(void **state) {
  (void)state;
  char err[16 + 1];
  memset(err, 'x', sizeof err);
  err[16] = '#'; /* a guard past the length handed over */
  assert_int_equal(error_text(err, 16, "slots: ", "%s", "a detail far longer than sixteen bytes"), -1);
  assert_int_equal(strlen(err), 15);
  assert_memory_equal(err, "slots: a detail", 15);
  assert_int_equal(err[16], '#');
}

/* The old per-file formatters wrote the detail at err + strlen(prefix) even when the buffer was
   shorter than the prefix, with a length that wrapped around: a write past the caller's buffer. */
static void buffer_shorter_than_the_prefix_is_not_overrun(void **state) {
  (void)state;
  char err[4 + 1];
  err[4] = '#';
  assert_int_equal(error_text(err, 4, "slots: ", "detail %d", 1), -1);
  assert_string_equal(err, "slo");
  assert_int_equal(err[4], '#');
  assert_int_equal(error_text(NULL, 0, "slots: ", "detail"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(prefix_then_detail_and_minus_one),
      cmocka_unit_test(detail_longer_than_the_buffer_is_cut_and_terminated),
      cmocka_unit_test(buffer_shorter_than_the_prefix_is_not_overrun),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
