/* Registration list tests: every capability registers once, under its js/caps name, in grant-bit order; its per-task state fits the slot; the manifest names them all when it refuses a grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "firmware.h"

/* The grant bits manifests and images already carry: a capability's bit never moves. */
static const char *const GRANT_BIT_ORDER[] = {"log", "console", "net", "timer", "channel", "task", "image", "update"};

static void every_capability_registers_once_in_grant_bit_order(void **state) {
  (void)state;
  size_t known = sizeof GRANT_BIT_ORDER / sizeof GRANT_BIT_ORDER[0];
  assert_true(CAP_COUNT >= known);
  for (unsigned c = 0; c < CAP_COUNT; c++) {
    const CapRegistration *r = CAP_REGISTRY[c];
    assert_non_null(r);
    assert_non_null(r->name);
    assert_non_null(r->build);
    if (c < known) assert_string_equal(r->name, GRANT_BIT_ORDER[c]);
    CapId parsed;
    assert_int_equal(cap_parse(r->name, &parsed), 0);
    assert_int_equal(parsed, c);
    assert_string_equal(cap_name((CapId)c), r->name);
    for (unsigned d = 0; d < c; d++) assert_string_not_equal(CAP_REGISTRY[d]->name, r->name);
  }
  CapId none;
  assert_int_equal(cap_parse("gpu", &none), -1);
}

static void per_task_state_of_every_capability_fits_the_slot(void **state) {
  (void)state;
  char err[160] = "";
  assert_int_equal(fw_caps_check(err, sizeof err), 0);
  static TaskSlot s;
  memset(&s, 0, sizeof s);
  fw_slot_init_caps(&s);
  for (unsigned c = 0; c < CAP_COUNT; c++) {
    size_t bytes = CAP_REGISTRY[c]->task_state_bytes;
    if (!bytes) {
      assert_null(s.cap_state[c]);
      continue;
    }
    unsigned char *at = s.cap_state[c];
    /* Inside the slot's pool, aligned, and clear of every other capability's share. */
    assert_true(at >= s.cap_pool && at + bytes <= s.cap_pool + sizeof s.cap_pool);
    assert_int_equal((uintptr_t)at % TASK_CAP_STATE_ALIGN_BYTES, 0);
    for (unsigned d = 0; d < c; d++) {
      unsigned char *other = s.cap_state[d];
      if (other) assert_true(other + CAP_REGISTRY[d]->task_state_bytes <= at);
    }
  }
}

/* The firmware hard-wires no capability: every hook it calls comes from a registration. A release
   hook must run on a task that never used its capability. */
static void release_hooks_run_on_an_untouched_task(void **state) {
  (void)state;
  static TaskSlot s;
  memset(&s, 0, sizeof s);
  s.task.id = 7;
  fw_slot_init_caps(&s);
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->release_task) CAP_REGISTRY[c]->release_task(&s);
}

/* The manifest's refusal of an unknown grant names every registered capability, as it did when
   the names were a fixed string ("... is not one of log console net timer channel task image"). */
static void unknown_grant_refusal_names_every_capability(void **state) {
  (void)state;
  static const char *const TEXT =
      "{\"schema\":\"cohesix-manifest/v1\",\"image_id\":\"t\",\"profile\":\"dev\","
      "\"engine\":{\"version\":\"0\",\"fingerprint\":\""
      "0000000000000000000000000000000000000000000000000000000000000000\"},\"root_task\":\"root-task\","
      "\"tasks\":[{\"name\":\"root-task\",\"bundle\":\"root-task.qbc\",\"size\":1,\"sha256\":\""
      "0000000000000000000000000000000000000000000000000000000000000000\",\"arena_bytes\":1048576,"
      "\"cpu_slice_ms\":50,\"grants\":[\"gpu\"]}]}";
  static Manifest m;
  char err[256] = "";
  assert_int_equal(manifest_parse(TEXT, strlen(TEXT), &m, err, sizeof err), -1);
  assert_non_null(strstr(err, "grants[0] is not one of log console net timer channel task image"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_capability_registers_once_in_grant_bit_order),
      cmocka_unit_test(per_task_state_of_every_capability_fits_the_slot),
      cmocka_unit_test(release_hooks_run_on_an_untouched_task),
      cmocka_unit_test(unknown_grant_refusal_names_every_capability),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
