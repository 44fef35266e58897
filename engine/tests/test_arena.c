/* Arena tests: random alloc/free/realloc against a model, fragmentation, exhaustion, reset, and the small-size caches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

#define ARENA_TEST_BYTES (256u * 1024u)
#define MODEL_SLOTS 512u
#define RANDOM_STEPS 200000u

static _Alignas(16) unsigned char g_mem[ARENA_TEST_BYTES];

typedef struct Slot {
  unsigned char *p;
  size_t size;
  unsigned char fill;
} Slot;

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)g_rng;
}

static void assert_filled(const Slot *s) {
  for (size_t i = 0; i < s->size; i++) assert_int_equal(s->p[i], s->fill);
}

/* Sizes shaped like an engine's: mostly small, some medium, a few large. */
static size_t random_size(void) {
  uint32_t r = rnd() % 100;
  if (r < 70) return 1 + rnd() % 128;
  if (r < 95) return 129 + rnd() % 4096;
  return 4097 + rnd() % 32768;
}

static void random_against_model(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  assert_non_null(a);
  Slot slots[MODEL_SLOTS];
  memset(slots, 0, sizeof slots);
  size_t live = 0;
  uint64_t nulls = 0;
  for (unsigned step = 0; step < RANDOM_STEPS; step++) {
    Slot *s = &slots[rnd() % MODEL_SLOTS];
    uint32_t op = rnd() % 3;
    if (!s->p && op != 2) op = 0;
    if (op == 0 && !s->p) {
      size_t n = random_size();
      s->p = arena_malloc(a, n);
      if (!s->p) {
        nulls++;
        continue;
      }
      assert_int_equal((uintptr_t)s->p % ARENA_ALIGN_BYTES, 0);
      assert_true(arena_usable_size(s->p) >= n);
      s->size = n;
      s->fill = (unsigned char)rnd();
      memset(s->p, s->fill, n);
      live++;
    } else if (op == 1 || (op == 0 && s->p)) {
      assert_filled(s);
      arena_free(a, s->p);
      s->p = NULL;
      live--;
    } else if (op == 2 && s->p) {
      size_t n = random_size();
      unsigned char *np = arena_realloc(a, s->p, n);
      if (!np) { /* old block must be intact */
        nulls++;
        assert_filled(s);
        continue;
      }
      size_t keep = n < s->size ? n : s->size;
      for (size_t i = 0; i < keep; i++) assert_int_equal(np[i], s->fill);
      s->p = np;
      s->size = n;
      memset(np, s->fill, n);
    }
    if (step % 997 == 0) assert_int_equal(arena_check(a), 0);
  }
  assert_int_equal(arena_check(a), 0);
  assert_int_equal(arena_stats(a).blocks_used, live);
  assert_true(nulls > 0); /* the workload is sized to hit exhaustion sometimes */
  for (unsigned i = 0; i < MODEL_SLOTS; i++)
    if (slots[i].p) {
      assert_filled(&slots[i]);
      arena_free(a, slots[i].p);
    }
  ArenaStats st = arena_stats(a);
  assert_int_equal(st.bytes_used, 0);
  assert_int_equal(st.blocks_used, 0);
  assert_true(st.bytes_cached > 0); /* small blocks wait in their caches until trimmed or needed */
  assert_int_equal(arena_check(a), 0);
  arena_trim(a);
  st = arena_stats(a);
  assert_int_equal(st.bytes_cached, 0);
  /* Everything coalesced back into one block. */
  assert_int_equal(st.largest_free + 16u, st.bytes_total);
  assert_int_equal(arena_check(a), 0);
}

/* The size-class caches: a freed small block is the next one handed out for its size. */
static void cache_reuses_freed_small_blocks(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  void *p = arena_malloc(a, 40);
  void *q = arena_malloc(a, 40);
  arena_free(a, p);
  assert_ptr_equal(arena_malloc(a, 33), p); /* 33 and 40 round to the same 48-byte class */
  arena_free(a, q);
  arena_free(a, p);
  assert_ptr_equal(arena_malloc(a, 48), p); /* last freed, first reused */
  assert_ptr_equal(arena_malloc(a, 48), q);
  void *big = arena_malloc(a, 1000); /* above the cached sizes: goes back to TLSF at once */
  arena_free(a, big);
  assert_int_equal(arena_stats(a).bytes_cached, 0);
  assert_int_equal(arena_check(a), 0);
}

/* Cached blocks count as free: bytes_used, blocks_used and the peak read as without caches. */
static void cache_keeps_exact_accounting(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  void *p[10];
  for (int i = 0; i < 10; i++) p[i] = arena_malloc(a, 64);
  ArenaStats full = arena_stats(a);
  assert_int_equal(full.bytes_used, 10u * (64u + 16u));
  assert_int_equal(full.blocks_used, 10);
  for (int i = 0; i < 10; i++) arena_free(a, p[i]);
  ArenaStats st = arena_stats(a);
  assert_int_equal(st.bytes_used, 0);
  assert_int_equal(st.blocks_used, 0);
  assert_int_equal(st.bytes_cached, 10u * (64u + 16u));
  assert_int_equal(st.bytes_peak, full.bytes_used);
  for (int i = 0; i < 10; i++) p[i] = arena_malloc(a, 64); /* all from the cache */
  st = arena_stats(a);
  assert_int_equal(st.bytes_used, full.bytes_used);
  assert_int_equal(st.bytes_peak, full.bytes_used);
  assert_int_equal(st.bytes_cached, 0);
  assert_int_equal(arena_check(a), 0);
}

/* Each class holds a bounded number of bytes; the rest is freed as before. */
static void cache_is_bounded_per_class(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  void *p[200];
  for (int i = 0; i < 200; i++) p[i] = arena_malloc(a, 16);
  for (int i = 0; i < 200; i++) arena_free(a, p[i]);
  ArenaStats st = arena_stats(a);
  assert_true(st.bytes_cached > 0 && st.bytes_cached <= 2048u); /* CACHE_CLASS_BYTES_MAX of one class */
  assert_int_equal(st.bytes_cached % 32u, 0);
  assert_int_equal(arena_check(a), 0);
  /* Every class full at once stays within its bound too. */
  void *q[16][64];
  for (int c = 0; c < 16; c++)
    for (int i = 0; i < 64; i++) q[c][i] = arena_malloc(a, (size_t)(c + 1) * 16u);
  for (int c = 0; c < 16; c++)
    for (int i = 0; i < 64; i++) arena_free(a, q[c][i]);
  assert_true(arena_stats(a).bytes_cached <= 16u * 2048u);
  assert_int_equal(arena_check(a), 0);
}

/* An arena filled with small blocks, all freed into caches, still serves one large request:
   the caches are given back and coalesced before the allocator would answer NULL. */
static void cache_gives_back_before_exhaustion(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  size_t total = arena_stats(a).largest_free;
  static void *p[ARENA_TEST_BYTES / 32u];
  size_t n = 0;
  while ((p[n] = arena_malloc(a, 16)) != NULL) n++;
  assert_true(n > 1000);
  uint64_t failed = arena_stats(a).failed_allocs;
  /* Free every block, interleaving the classes' caps with real frees, then ask for nearly all of it. */
  for (size_t i = 0; i < n; i++) arena_free(a, p[i]);
  assert_true(arena_stats(a).bytes_cached > 0);
  void *big = arena_malloc(a, total - 64);
  assert_non_null(big);
  assert_int_equal(arena_stats(a).failed_allocs, failed);
  assert_int_equal(arena_stats(a).bytes_cached, 0);
  assert_int_equal(arena_check(a), 0);
  arena_free(a, big);
  assert_int_equal(arena_stats(a).largest_free, total);
}

/* Cached blocks pin their places: freed small blocks between large ones do not merge until the
   caches are trimmed, and then the arena is one block again. */
static void cache_fragmentation_recovers_on_trim(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  size_t total = arena_stats(a).largest_free;
  void *small[64], *large[64];
  for (int i = 0; i < 64; i++) {
    small[i] = arena_malloc(a, 100);
    large[i] = arena_malloc(a, 2000);
  }
  for (int i = 0; i < 64; i++) arena_free(a, large[i]);
  for (int i = 0; i < 64; i++) arena_free(a, small[i]);
  ArenaStats st = arena_stats(a);
  assert_int_equal(st.bytes_used, 0);
  assert_true(st.bytes_cached > 0);
  assert_true(st.largest_free < total);
  assert_int_equal(arena_check(a), 0);
  arena_trim(a);
  assert_int_equal(arena_stats(a).largest_free, total);
  assert_int_equal(arena_check(a), 0);
}

static void exhaustion_returns_null_and_recovers(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  void *ptrs[4096];
  unsigned n = 0;
  while (n < 4096) {
    void *p = arena_malloc(a, 1000);
    if (!p) break;
    ptrs[n++] = p;
  }
  assert_true(n > 200 && n < 4096);
  assert_null(arena_malloc(a, 1000));
  assert_true(arena_stats(a).failed_allocs >= 1);
  assert_null(arena_malloc(a, (size_t)ARENA_BYTES_MAX + 1));
  assert_null(arena_calloc(a, SIZE_MAX / 2, 4)); /* overflow is refused, not wrapped */
  arena_free(a, ptrs[n / 2]);
  assert_non_null(arena_malloc(a, 1000)); /* the freed hole is reused */
  assert_int_equal(arena_check(a), 0);
}

static void fragmentation_coalesces(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  size_t total = arena_stats(a).largest_free;
  void *p[256];
  int n = 0;
  while (n < 256 && (p[n] = arena_malloc(a, 2000)) != NULL) n++;
  assert_true(n > 100 && n < 256);
  /* Free every other block: lots of free bytes, but no large hole. */
  for (int i = 0; i < n; i += 2) arena_free(a, p[i]);
  assert_true(arena_stats(a).bytes_total - arena_stats(a).bytes_used > 100000);
  assert_true(arena_stats(a).largest_free < 4096);
  assert_null(arena_malloc(a, 8192));
  assert_int_equal(arena_check(a), 0);
  /* Free the rest: neighbours merge, and the whole arena is one block again. */
  for (int i = 1; i < n; i += 2) arena_free(a, p[i]);
  assert_int_equal(arena_stats(a).largest_free, total);
  assert_non_null(arena_malloc(a, total - 64));
}

static void realloc_in_place_and_zero(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  unsigned char *p = arena_malloc(a, 100);
  memset(p, 7, 100);
  unsigned char *q = arena_realloc(a, p, 5000); /* next block is free: grows in place */
  assert_ptr_equal(p, q);
  for (int i = 0; i < 100; i++) assert_int_equal(q[i], 7);
  q = arena_realloc(a, q, 10);
  assert_ptr_equal(p, q);
  assert_null(arena_realloc(a, q, 0)); /* realloc to 0 frees */
  assert_int_equal(arena_stats(a).blocks_used, 0);
  assert_non_null(arena_realloc(a, NULL, 32));
  unsigned char *z = arena_calloc(a, 10, 10);
  for (int i = 0; i < 100; i++) assert_int_equal(z[i], 0);
  assert_int_equal(arena_check(a), 0);
}

static void whole_arena_reset(void **state) {
  (void)state;
  Arena *a = arena_init(g_mem, sizeof g_mem);
  size_t empty = arena_stats(a).largest_free;
  for (int i = 0; i < 100; i++) assert_non_null(arena_malloc(a, 500));
  /* Freeing a task's arena is just forgetting it: re-formatting the block yields full capacity. */
  a = arena_init(g_mem, sizeof g_mem);
  assert_int_equal(arena_stats(a).largest_free, empty);
  assert_int_equal(arena_stats(a).bytes_used, 0);
}

static void init_refuses_bad_blocks(void **state) {
  (void)state;
  assert_null(arena_init(NULL, 65536));
  assert_null(arena_init(g_mem + 1, 65536)); /* misaligned */
  assert_null(arena_init(g_mem, 100));        /* too small */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_against_model),
      cmocka_unit_test(exhaustion_returns_null_and_recovers),
      cmocka_unit_test(fragmentation_coalesces),
      cmocka_unit_test(realloc_in_place_and_zero),
      cmocka_unit_test(whole_arena_reset),
      cmocka_unit_test(init_refuses_bad_blocks),
      cmocka_unit_test(cache_reuses_freed_small_blocks),
      cmocka_unit_test(cache_keeps_exact_accounting),
      cmocka_unit_test(cache_is_bounded_per_class),
      cmocka_unit_test(cache_gives_back_before_exhaustion),
      cmocka_unit_test(cache_fragmentation_recovers_on_trim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
