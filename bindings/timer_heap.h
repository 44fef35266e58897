/* A bounded, indexed min-heap of timers by due time: the pump finds the next due timer in O(1) and fires, moves or drops one in O(log n), whatever the number of tasks. */
#ifndef COHESIX_BINDINGS_TIMER_HEAP_H
#define COHESIX_BINDINGS_TIMER_HEAP_H

#include <stdint.h>

/*
 * Why: the timer source scanned every task's timer table each turn to find the earliest due time
 * and again to fire, so a turn's cost grew with the task table, not with the timers due (issue 17).
 * Each node records its own position, so clearing a timer or ending its task removes it at once:
 * the heap never holds a stale entry, and its bound is exactly the timers that can be live.
 */
#define TIMER_HEAP_POS_NONE UINT32_MAX

typedef struct TimerHeapNode {
  uint64_t due_us;
  uint32_t pos;  /* index in the heap, TIMER_HEAP_POS_NONE while not in it */
  uint32_t user; /* the owner's word, in what would be padding (the timer capability: the timer's index) */
} TimerHeapNode;

typedef struct TimerHeap {
  TimerHeapNode **items; /* capacity entries, owned by the caller */
  uint32_t count;
  uint32_t capacity;
} TimerHeap;

void timer_heap_init(TimerHeap *h, TimerHeapNode **items, uint32_t capacity);
void timer_heap_node_init(TimerHeapNode *n);
/* Adds n due at due_us; -1 (and n stays out) if the heap is full or n is already in it. */
int timer_heap_push(TimerHeap *h, TimerHeapNode *n, uint64_t due_us);
/* Takes n out; a node not in the heap is left alone (a timer cleared twice, a task's stopped timers). */
void timer_heap_remove(TimerHeap *h, TimerHeapNode *n);
/* Moves n (in the heap) to due_us: a periodic timer's next tick. */
void timer_heap_move(TimerHeap *h, TimerHeapNode *n, uint64_t due_us);
/* The earliest node, or NULL when empty. */
TimerHeapNode *timer_heap_min(const TimerHeap *h);

#endif
