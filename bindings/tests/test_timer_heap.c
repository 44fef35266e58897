/* cmocka tests for the timer min-heap: due-time order, removal (a cleared timer, a killed task's timers), stale removals, moves and the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "timer_heap.h"

#define NODES 64u

static TimerHeapNode *items[NODES];
static TimerHeapNode nodes[NODES];
static TimerHeap heap;

static int setup(void **state) {
  (void)state;
  timer_heap_init(&heap, items, NODES);
  for (unsigned i = 0; i < NODES; i++) timer_heap_node_init(&nodes[i]);
  return 0;
}

/* Pops everything, checking the due times never go down; returns how many came out. */
static unsigned drain_in_order(void) {
  unsigned n = 0;
  uint64_t last = 0;
  TimerHeapNode *m;
  while ((m = timer_heap_min(&heap))) {
    assert_true(m->due_us >= last);
    last = m->due_us;
    timer_heap_remove(&heap, m);
    assert_int_equal(m->pos, TIMER_HEAP_POS_NONE);
    n++;
  }
  return n;
}

static void test_pops_in_due_order(void **state) {
  (void)state;
  assert_null(timer_heap_min(&heap));
  /* A scrambled order with ties. */
  for (unsigned i = 0; i < NODES; i++) assert_int_equal(timer_heap_push(&heap, &nodes[i], (i * 37u) % 23u), 0);
  assert_int_equal(heap.count, NODES);
  assert_int_equal(timer_heap_min(&heap)->due_us, 0);
  assert_int_equal(drain_in_order(), NODES);
}

static void test_remove_from_the_middle_keeps_order(void **state) {
  (void)state;
  for (unsigned i = 0; i < NODES; i++) timer_heap_push(&heap, &nodes[i], 1000u - i * 7u);
  /* A killed task's timers: every third node goes, wherever it sits. */
  for (unsigned i = 0; i < NODES; i += 3) timer_heap_remove(&heap, &nodes[i]);
  for (unsigned i = 0; i < NODES; i++)
    if (i % 3 == 0) assert_int_equal(nodes[i].pos, TIMER_HEAP_POS_NONE);
    else assert_ptr_equal(heap.items[nodes[i].pos], &nodes[i]);
  assert_int_equal(drain_in_order(), NODES - (NODES + 2u) / 3u);
}

static void test_stale_removal_does_nothing(void **state) {
  (void)state;
  timer_heap_push(&heap, &nodes[0], 5);
  timer_heap_push(&heap, &nodes[1], 6);
  timer_heap_remove(&heap, &nodes[0]);
  timer_heap_remove(&heap, &nodes[0]); /* cleared twice */
  timer_heap_remove(&heap, &nodes[2]); /* never added */
  assert_int_equal(heap.count, 1);
  assert_ptr_equal(timer_heap_min(&heap), &nodes[1]);
  /* A node already in the heap is not added twice. */
  assert_int_equal(timer_heap_push(&heap, &nodes[1], 1), -1);
  assert_int_equal(heap.count, 1);
  assert_int_equal(nodes[1].due_us, 6);
}

static void test_move_reorders(void **state) {
  (void)state;
  for (unsigned i = 0; i < 8; i++) timer_heap_push(&heap, &nodes[i], 100u + i);
  timer_heap_move(&heap, &nodes[0], 200); /* a periodic tick: next due later */
  assert_ptr_equal(timer_heap_min(&heap), &nodes[1]);
  timer_heap_move(&heap, &nodes[7], 1); /* earlier */
  assert_ptr_equal(timer_heap_min(&heap), &nodes[7]);
  timer_heap_move(&heap, &nodes[9], 0); /* not in the heap: nothing */
  assert_int_equal(nodes[9].pos, TIMER_HEAP_POS_NONE);
  assert_int_equal(drain_in_order(), 8);
}

static void test_full_heap_refuses(void **state) {
  (void)state;
  TimerHeapNode *small[2];
  timer_heap_init(&heap, small, 2);
  assert_int_equal(timer_heap_push(&heap, &nodes[0], 3), 0);
  assert_int_equal(timer_heap_push(&heap, &nodes[1], 2), 0);
  assert_int_equal(timer_heap_push(&heap, &nodes[2], 1), -1);
  assert_int_equal(nodes[2].pos, TIMER_HEAP_POS_NONE);
  assert_ptr_equal(timer_heap_min(&heap), &nodes[1]);
  timer_heap_remove(&heap, &nodes[1]);
  assert_int_equal(timer_heap_push(&heap, &nodes[2], 1), 0);
  assert_ptr_equal(timer_heap_min(&heap), &nodes[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_pops_in_due_order, setup),
      cmocka_unit_test_setup(test_remove_from_the_middle_keeps_order, setup),
      cmocka_unit_test_setup(test_stale_removal_does_nothing, setup),
      cmocka_unit_test_setup(test_move_reorders, setup),
      cmocka_unit_test_setup(test_full_heap_refuses, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
