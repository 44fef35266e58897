/* The timer min-heap: sift up and down over node pointers, each node keeping its own index so removal needs no search. */
#include "timer_heap.h"

#include <stddef.h>

static void place(TimerHeap *h, uint32_t i, TimerHeapNode *n) {
  h->items[i] = n;
  n->pos = i;
}

static void sift_up(TimerHeap *h, uint32_t i) {
  TimerHeapNode *n = h->items[i];
  while (i > 0) {
    uint32_t parent = (i - 1u) / 2u;
    if (h->items[parent]->due_us <= n->due_us) break;
    place(h, i, h->items[parent]);
    i = parent;
  }
  place(h, i, n);
}

static void sift_down(TimerHeap *h, uint32_t i) {
  TimerHeapNode *n = h->items[i];
  for (;;) {
    uint32_t child = 2u * i + 1u;
    if (child >= h->count) break;
    if (child + 1u < h->count && h->items[child + 1u]->due_us < h->items[child]->due_us) child++;
    if (n->due_us <= h->items[child]->due_us) break;
    place(h, i, h->items[child]);
    i = child;
  }
  place(h, i, n);
}

void timer_heap_init(TimerHeap *h, TimerHeapNode **items, uint32_t capacity) {
  h->items = items;
  h->count = 0;
  h->capacity = capacity;
}

void timer_heap_node_init(TimerHeapNode *n) {
  n->due_us = 0;
  n->pos = TIMER_HEAP_POS_NONE;
  n->user = 0;
}

int timer_heap_push(TimerHeap *h, TimerHeapNode *n, uint64_t due_us) {
  if (n->pos != TIMER_HEAP_POS_NONE || h->count >= h->capacity) return -1;
  n->due_us = due_us;
  place(h, h->count++, n);
  sift_up(h, n->pos);
  return 0;
}

void timer_heap_remove(TimerHeap *h, TimerHeapNode *n) {
  uint32_t i = n->pos;
  if (i == TIMER_HEAP_POS_NONE || i >= h->count || h->items[i] != n) return;
  n->pos = TIMER_HEAP_POS_NONE;
  TimerHeapNode *last = h->items[--h->count];
  if (last == n) return;
  place(h, i, last);
  /* The moved node may belong above or below its new place. */
  sift_up(h, i);
  sift_down(h, last->pos);
}

void timer_heap_move(TimerHeap *h, TimerHeapNode *n, uint64_t due_us) {
  if (n->pos == TIMER_HEAP_POS_NONE) return;
  n->due_us = due_us;
  sift_up(h, n->pos);
  sift_down(h, n->pos);
}

TimerHeapNode *timer_heap_min(const TimerHeap *h) { return h->count ? h->items[0] : NULL; }
