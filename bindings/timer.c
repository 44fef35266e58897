/* The `timer` capability: clocks and bounded per-task one-shot and periodic timers. */
#include <stddef.h>
#include <string.h>

#include "engine_hal.h"
#include "pump.h"
#include "task_table.h"
#include "timer_heap.h"

/* Timer callbacks fired per pump turn across all tasks; the rest fire next turn. */
#define TIMER_FIRES_PER_TURN_MAX 64u
/* Shortest interval: a 0 ms interval would spin the pump. */
#define TIMER_INTERVAL_MS_MIN 1u
#define TIMER_DELAY_MS_MAX (7u * 24u * 3600u * 1000u)

/* Promise-free, bounded per-task timers. */
typedef struct TimerSlot {
  TimerHeapNode node;  /* due time and place in g_heap; node.user is this slot's index in its task */
  uint32_t generation; /* 0 = free; part of the id handed to JS so stale ids do nothing */
  uint32_t armed_poll; /* g_poll_seq when it was set: a callback's new timer waits for the next turn */
  uint64_t period_us;  /* 0 for one-shot */
  JSValue fn;
} TimerSlot;

/* What the timer capability keeps per task (in its slot). */
typedef struct TimerTask {
  TaskSlot *owner; /* the slot this state lives in: a heap node leads back to its task */
  unsigned timers_live;
  TimerSlot timers[TIMERS_PER_TASK_MAX];
} TimerTask;

/*
 * Every live timer of every task, by due time. A pump turn looks at the earliest and fires what is
 * due, so its cost follows the timers due, not the task table (issue 17; it used to scan every
 * task's table twice a turn). Bound: every timer that can be live at once.
 */
#define TIMER_HEAP_NODES_MAX (TASKS_MAX * TIMERS_PER_TASK_MAX)
static TimerHeapNode *g_heap_items[TIMER_HEAP_NODES_MAX];
static TimerHeap g_heap = {g_heap_items, 0, TIMER_HEAP_NODES_MAX};
/* Counts timer_poll calls, so a timer a callback sets during one is left for the next turn. */
static uint32_t g_poll_seq;

static TimerSlot *timer_of_node(TimerHeapNode *n) { return (TimerSlot *)((char *)n - offsetof(TimerSlot, node)); }

static TimerTask *task_of_timer(TimerSlot *t) {
  return (TimerTask *)((char *)(t - t->node.user) - offsetof(TimerTask, timers));
}

static TimerTask *timers_of(TaskSlot *s) { return fw_cap_state(s, CAP_TIMER); }

static uint32_t timer_id(unsigned index, uint32_t generation) { return generation * TIMERS_PER_TASK_MAX + index + 1u; }

static JSValue js_timer_now(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TIMER) < 0) return JS_EXCEPTION;
  return JS_NewFloat64(ctx, (double)(hal_clock_us() - fw_boot_us()) / 1000.0);
}

static JSValue js_timer_wall(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TIMER) < 0) return JS_EXCEPTION;
  return JS_NewFloat64(ctx, (double)hal_wall_ms());
}

static JSValue timer_add(JSContext *ctx, JSValueConst fn, JSValueConst ms_val, int periodic) {
  if (cap_require(ctx, CAP_TIMER) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, fn)) return cap_throw(ctx, CAP_TIMER, "Invalid", "timer callback must be a function");
  double ms;
  if (JS_ToFloat64(ctx, &ms, ms_val) < 0) return JS_EXCEPTION;
  if (!(ms >= 0) || ms > TIMER_DELAY_MS_MAX) return cap_throw(ctx, CAP_TIMER, "Invalid", "delay must be 0..%u ms", TIMER_DELAY_MS_MAX);
  if (periodic && ms < TIMER_INTERVAL_MS_MIN) ms = TIMER_INTERVAL_MS_MIN;
  TimerTask *s = timers_of(fw_slot_of_ctx(ctx));
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++) {
    TimerSlot *t = &s->timers[i];
    if (t->generation & 1u) continue; /* odd generation = in use */
    /* The heap holds every timer that can be live, so this only fails if that bound is wrong. */
    if (timer_heap_push(&g_heap, &t->node, hal_clock_us() + (uint64_t)(ms * 1000.0)) < 0) break;
    t->generation++;
    t->armed_poll = g_poll_seq;
    t->period_us = periodic ? (uint64_t)(ms * 1000.0) : 0;
    t->fn = JS_DupValue(ctx, fn);
    s->timers_live++;
    return JS_NewUint32(ctx, timer_id(i, t->generation));
  }
  return cap_throw(ctx, CAP_TIMER, "Busy", "task has %u live timers already", TIMERS_PER_TASK_MAX);
}

static JSValue js_timer_set_timeout(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  return timer_add(ctx, argv[0], argv[1], 0);
}
static JSValue js_timer_set_interval(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  return timer_add(ctx, argv[0], argv[1], 1);
}

static void timer_free(TimerTask *s, JSContext *ctx, TimerSlot *t) {
  timer_heap_remove(&g_heap, &t->node);
  if (ctx) JS_FreeValue(ctx, t->fn);
  t->fn = JS_UNDEFINED;
  t->generation++; /* even again: free */
  s->timers_live--;
}

static JSValue js_timer_clear(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TIMER) < 0) return JS_EXCEPTION;
  uint32_t id;
  if (JS_ToUint32(ctx, &id, argv[0]) < 0) return JS_EXCEPTION;
  if (id == 0) return JS_UNDEFINED;
  TimerTask *s = timers_of(fw_slot_of_ctx(ctx));
  unsigned index = (id - 1u) % TIMERS_PER_TASK_MAX;
  uint32_t generation = (id - 1u) / TIMERS_PER_TASK_MAX;
  TimerSlot *t = &s->timers[index];
  /* A stale or foreign id does nothing, like clearTimeout. */
  if (t->generation == generation && (generation & 1u)) timer_free(s, ctx, t);
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry timer_funcs[] = {
    JS_CFUNC_DEF("nowMs", 0, js_timer_now),
    JS_CFUNC_DEF("wallMs", 0, js_timer_wall),
    JS_CFUNC_DEF("setTimeout", 2, js_timer_set_timeout),
    JS_CFUNC_DEF("setInterval", 2, js_timer_set_interval),
    JS_CFUNC_DEF("clear", 1, js_timer_clear),
};

static JSValue timer_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, timer_funcs, sizeof timer_funcs / sizeof timer_funcs[0]);
  return o;
}

static void timer_init_task(TaskSlot *slot) {
  TimerTask *s = timers_of(slot);
  s->owner = slot;
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++) {
    timer_heap_node_init(&s->timers[i].node);
    s->timers[i].node.user = i;
    s->timers[i].fn = JS_UNDEFINED;
  }
}

static void timer_release_task(TaskSlot *slot) {
  TimerTask *s = timers_of(slot);
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++)
    if (s->timers[i].generation & 1u) timer_free(s, NULL, &s->timers[i]); /* arena goes whole */
}

static void timer_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  g_poll_seq++;
  unsigned fired = 0;
  TimerHeapNode *n;
  while (fired < TIMER_FIRES_PER_TURN_MAX && (n = timer_heap_min(&g_heap)) && n->due_us <= now_us) {
    TimerSlot *t = timer_of_node(n);
    TimerTask *ts = task_of_timer(t);
    TaskSlot *s = ts->owner;
    if (!s->used || !s->started || s->task.state != TASK_RUNNING) {
      /* A task never runs again once stopped: its timers leave the heap now, and its release frees them. */
      timer_heap_remove(&g_heap, n);
      continue;
    }
    /* Set by a callback in this poll (its delay counts from the clock at setTimeout): the next turn fires it. */
    if (t->armed_poll == g_poll_seq) break;
    fired++;
    JSContext *c = s->task.ctx;
    JSValue fn = JS_DupValue(c, t->fn);
    if (t->period_us) {
      /* Next due from now, not from the old due time: a late tick never bursts to catch up. */
      timer_heap_move(&g_heap, n, now_us + t->period_us);
    } else {
      timer_free(ts, c, t);
    }
    fw_call(s, fn, 0, NULL);
    if (s->task.state != TASK_RUNNING) continue;
    JS_FreeValue(c, fn);
  }
}

static uint64_t timer_deadline(void *ctx) {
  (void)ctx;
  TimerHeapNode *n = timer_heap_min(&g_heap);
  return n ? n->due_us : HAL_DEADLINE_NONE;
}

/* The runtime that does not go on (the old one committed, the new one rolled back) leaves in a
   drop that zeroes its slot without a release: its timers leave the heap first. Its callbacks go
   with its runtime, whole. */
static void timer_reload_end(TaskSlot *old, TaskSlot *next, int committed) {
  TimerTask *gone = timers_of(committed ? old : next);
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++) timer_heap_remove(&g_heap, &gone->timers[i].node);
}

static void timer_register_source(void) {
  /* A new boot (tests boot more than once a process) starts with no timers. */
  timer_heap_init(&g_heap, g_heap_items, TIMER_HEAP_NODES_MAX);
  PumpSource src = {"timers", timer_poll, timer_deadline, NULL};
  pump_add_source(&src);
}

/* Timers belong to one runtime: a hot reload's new code starts with none, and the old code's go with its slot. */
const CapRegistration cap_timer_registration = {
    .name = "timer",
    .build = timer_build,
    .register_source = timer_register_source,
    .task_state_bytes = sizeof(TimerTask),
    .init_task = timer_init_task,
    .release_task = timer_release_task,
    .reload_end = timer_reload_end,
};
