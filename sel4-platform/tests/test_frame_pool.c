/* Frame pool tests over a fake kernel: each arena gets its own frames, free returns them for reuse,
 * guard pages separate arenas, exhaustion gives back what was taken, a refusing untyped is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_pool.h"

#define FAKE_WINDOW_BASE 0x2000000000ull
#define FAKE_WINDOW_PAGES 64u
#define FAKE_SLOTS_MAX 4096u

/* The fake kernel: slots for frames, which vaddr each frame is mapped at, untypeds that refuse. */
typedef struct Fake {
  FrameCap next_slot;
  uintptr_t mapped_at[FAKE_SLOTS_MAX];
  FrameCap refusing_untyped;
  int fail_map_after;  /* maps that succeed before map fails; -1 = never fails */
  unsigned retypes;
} Fake;

static Fake g_k;
static FramePool g_pool;

static int fake_retype(void *ctx, FrameCap ut, FrameCap *out) {
  Fake *k = ctx;
  if (ut == k->refusing_untyped) return -1;
  k->retypes++;
  *out = k->next_slot++;
  return 0;
}

static int fake_map(void *ctx, FrameCap f, uintptr_t va) {
  Fake *k = ctx;
  if (k->fail_map_after == 0) return -1;
  if (k->fail_map_after > 0) k->fail_map_after--;
  assert_int_equal(k->mapped_at[f], 0); /* a frame is never mapped twice */
  k->mapped_at[f] = va;
  return 0;
}

static void fake_unmap(void *ctx, FrameCap f) {
  Fake *k = ctx;
  assert_int_not_equal(k->mapped_at[f], 0);
  k->mapped_at[f] = 0;
}

static int setup(void **state) {
  (void)state;
  memset(&g_k, 0, sizeof g_k);
  g_k.next_slot = 100;
  g_k.fail_map_after = -1;
  assert_int_equal(frame_pool_init(&g_pool, (FramePoolOps){&g_k, fake_retype, fake_map, fake_unmap}, FAKE_WINDOW_BASE,
                                   FAKE_WINDOW_PAGES),
                   0);
  assert_int_equal(frame_pool_add_untyped(&g_pool, 10, 14), 0); /* 4 pages */
  assert_int_equal(frame_pool_add_untyped(&g_pool, 11, 16), 0); /* 16 pages */
  return 0;
}

static unsigned frames_mapped_in(uintptr_t lo, uintptr_t hi) {
  unsigned n = 0;
  for (unsigned s = 0; s < FAKE_SLOTS_MAX; s++)
    if (g_k.mapped_at[s] && g_k.mapped_at[s] >= lo && g_k.mapped_at[s] < hi) n++;
  return n;
}

static void test_frame_pool_refuses_bad_window(void **state) {
  (void)state;
  FramePool *p = malloc(sizeof *p);
  FramePoolOps ops = {&g_k, fake_retype, fake_map, fake_unmap};
  assert_int_equal(frame_pool_init(p, ops, FAKE_WINDOW_BASE + 1, 8), -1);
  assert_int_equal(frame_pool_init(p, ops, FAKE_WINDOW_BASE, FRAME_POOL_WINDOW_PAGES_MAX + 1), -1);
  free(p);
}

static void test_frame_pool_arena_gets_its_own_frames(void **state) {
  (void)state;
  uint8_t *a = frame_pool_alloc(&g_pool, 3 * FRAME_PAGE_BYTES);
  uint8_t *b = frame_pool_alloc(&g_pool, 2 * FRAME_PAGE_BYTES + 1); /* rounds up to 3 pages */
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal((uintptr_t)a, FAKE_WINDOW_BASE);
  /* b starts after a's three pages and a's guard page. */
  assert_int_equal((uintptr_t)b, FAKE_WINDOW_BASE + 4 * FRAME_PAGE_BYTES);
  assert_int_equal(frames_mapped_in((uintptr_t)a, (uintptr_t)a + 3 * FRAME_PAGE_BYTES), 3);
  assert_int_equal(frames_mapped_in((uintptr_t)a + 3 * FRAME_PAGE_BYTES, (uintptr_t)b), 0); /* the guard */
  assert_int_equal(frames_mapped_in((uintptr_t)b, (uintptr_t)b + 3 * FRAME_PAGE_BYTES), 3);
  FramePoolStats s = frame_pool_stats(&g_pool);
  assert_int_equal(s.frames_mapped, 6);
  assert_int_equal(s.frames_made, 6);
  assert_int_equal(s.regions_live, 2);
  assert_int_equal(s.untyped_bytes_left, (4 + 16 - 6) * FRAME_PAGE_BYTES);
}

static void test_frame_pool_free_returns_frames_for_reuse(void **state) {
  (void)state;
  void *a = frame_pool_alloc(&g_pool, 5 * FRAME_PAGE_BYTES);
  assert_non_null(a);
  assert_int_equal(frame_pool_free(&g_pool, a, 5 * FRAME_PAGE_BYTES), 0);
  FramePoolStats s = frame_pool_stats(&g_pool);
  assert_int_equal(s.frames_mapped, 0);
  assert_int_equal(s.frames_free, 5);
  assert_int_equal(frames_mapped_in(0, UINTPTR_MAX), 0);
  unsigned retypes = g_k.retypes;
  void *b = frame_pool_alloc(&g_pool, 5 * FRAME_PAGE_BYTES);
  assert_ptr_equal(b, a); /* the window space came back too */
  assert_int_equal(g_k.retypes, retypes); /* no new untyped spent: the same frames */
  assert_int_equal(frame_pool_stats(&g_pool).frames_free, 0);
}

static void test_frame_pool_free_of_unknown_region_is_refused(void **state) {
  (void)state;
  uint8_t *a = frame_pool_alloc(&g_pool, 2 * FRAME_PAGE_BYTES);
  assert_int_equal(frame_pool_free(&g_pool, a + FRAME_PAGE_BYTES, FRAME_PAGE_BYTES), -1);
  assert_int_equal(frame_pool_free(&g_pool, a, 7 * FRAME_PAGE_BYTES), -1);
  assert_int_equal(frame_pool_free(&g_pool, NULL, 0), -1);
  assert_int_equal(frame_pool_free(&g_pool, a, 2 * FRAME_PAGE_BYTES), 0);
  assert_int_equal(frame_pool_free(&g_pool, a, 2 * FRAME_PAGE_BYTES), -1); /* twice */
}

static void test_frame_pool_untyped_exhaustion_gives_back_what_it_took(void **state) {
  (void)state;
  /* 20 pages of untyped; ask for 25. */
  assert_null(frame_pool_alloc(&g_pool, 25 * FRAME_PAGE_BYTES));
  FramePoolStats s = frame_pool_stats(&g_pool);
  assert_int_equal(s.frames_mapped, 0);
  assert_int_equal(s.frames_free, 20);
  assert_int_equal(s.failed_allocs, 1);
  assert_int_equal(frames_mapped_in(0, UINTPTR_MAX), 0);
  /* What was made is still usable. */
  void *a = frame_pool_alloc(&g_pool, 20 * FRAME_PAGE_BYTES);
  assert_non_null(a);
}

static void test_frame_pool_refusing_untyped_is_skipped(void **state) {
  (void)state;
  g_k.refusing_untyped = 10;
  void *a = frame_pool_alloc(&g_pool, 16 * FRAME_PAGE_BYTES);
  assert_non_null(a);
  assert_null(frame_pool_alloc(&g_pool, FRAME_PAGE_BYTES));
  assert_int_equal(frame_pool_stats(&g_pool).untyped_bytes_left, 0);
}

static void test_frame_pool_map_failure_unwinds(void **state) {
  (void)state;
  g_k.fail_map_after = 2;
  assert_null(frame_pool_alloc(&g_pool, 4 * FRAME_PAGE_BYTES));
  assert_int_equal(frames_mapped_in(0, UINTPTR_MAX), 0);
  assert_int_equal(frame_pool_stats(&g_pool).regions_live, 0);
  g_k.fail_map_after = -1;
  assert_ptr_equal(frame_pool_alloc(&g_pool, 4 * FRAME_PAGE_BYTES), (void *)FAKE_WINDOW_BASE);
}

static void test_frame_pool_window_full_is_refused(void **state) {
  (void)state;
  assert_null(frame_pool_alloc(&g_pool, FAKE_WINDOW_PAGES * FRAME_PAGE_BYTES));
  assert_null(frame_pool_alloc(&g_pool, 0));
}

static void test_frame_pool_region_table_full_is_refused(void **state) {
  (void)state;
  FramePool *p = malloc(sizeof *p);
  frame_pool_init(p, (FramePoolOps){&g_k, fake_retype, fake_map, fake_unmap}, FAKE_WINDOW_BASE, 1024);
  frame_pool_add_untyped(p, 12, 20);
  for (unsigned i = 0; i < FRAME_POOL_REGIONS_MAX; i++) assert_non_null(frame_pool_alloc(p, FRAME_PAGE_BYTES));
  assert_null(frame_pool_alloc(p, FRAME_PAGE_BYTES));
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_frame_pool_refuses_bad_window, setup),
      cmocka_unit_test_setup(test_frame_pool_arena_gets_its_own_frames, setup),
      cmocka_unit_test_setup(test_frame_pool_free_returns_frames_for_reuse, setup),
      cmocka_unit_test_setup(test_frame_pool_free_of_unknown_region_is_refused, setup),
      cmocka_unit_test_setup(test_frame_pool_untyped_exhaustion_gives_back_what_it_took, setup),
      cmocka_unit_test_setup(test_frame_pool_refusing_untyped_is_skipped, setup),
      cmocka_unit_test_setup(test_frame_pool_map_failure_unwinds, setup),
      cmocka_unit_test_setup(test_frame_pool_window_full_is_refused, setup),
      cmocka_unit_test_setup(test_frame_pool_region_table_full_is_refused, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
