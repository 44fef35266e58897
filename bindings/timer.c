/* The `timer` capability: clocks and bounded per-task one-shot and periodic timers. */
#include <string.h>

#include "engine_hal.h"
#include "pump.h"
#include "task_table.h"

/* Timer callbacks fired per pump turn across all tasks; the rest fire next turn. */
#define TIMER_FIRES_PER_TURN_MAX 64u
/* Shortest interval: a 0 ms interval would spin the pump. */
#define TIMER_INTERVAL_MS_MIN 1u
#define TIMER_DELAY_MS_MAX (7u * 24u * 3600u * 1000u)

/*
 * The earliest due time over all live timers, as timer_deadline last found it, while g_due_known.
 * Every request is a pump turn, and scanning each task's timers twice a turn cost ~600
 * instructions a request. Only a new timer or a firing can make it later than the truth, and both
 * forget it; a timer cleared since only makes it early, which costs one scan, as before.
 */
static uint64_t g_due_us;
static int g_due_known;

/* Promise-free, bounded per-task timers. */
typedef struct TimerSlot {
  uint32_t generation; /* 0 = free; part of the id handed to JS so stale ids do nothing */
  uint64_t due_us;
  uint64_t period_us; /* 0 for one-shot */
  JSValue fn;
} TimerSlot;

/* What the timer capability keeps per task (in its slot). */
typedef struct TimerTask {
  TimerSlot timers[TIMERS_PER_TASK_MAX];
  /* Live timers in `timers`: the pump's scans stop once they have seen this many (most tasks
     hold a few timers in the first slots, and every pump turn scans twice). */
  unsigned timers_live;
} TimerTask;

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
    t->generation++;
    t->due_us = hal_clock_us() + (uint64_t)(ms * 1000.0);
    t->period_us = periodic ? (uint64_t)(ms * 1000.0) : 0;
    t->fn = JS_DupValue(ctx, fn);
    s->timers_live++;
    g_due_known = 0;
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
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++) s->timers[i].fn = JS_UNDEFINED;
}

static void timer_release_task(TaskSlot *slot) {
  TimerTask *s = timers_of(slot);
  for (unsigned i = 0; i < TIMERS_PER_TASK_MAX; i++)
    if (s->timers[i].generation & 1u) timer_free(s, NULL, &s->timers[i]); /* arena goes whole */
}

static void timer_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  if (g_due_known && now_us < g_due_us) return;
  g_due_known = 0; /* what fires below moves its due time or frees it */
  unsigned fired = 0, top;
  TaskSlot *slots = fw_slots(&top);
  for (unsigned k = 0; k < top && fired < TIMER_FIRES_PER_TURN_MAX; k++) {
    TaskSlot *s = &slots[k];
    if (!s->used || !s->started || s->task.state != TASK_RUNNING) continue;
    TimerTask *ts = timers_of(s);
    /* Up to the last timer live at the start. A timer a callback adds is due no earlier than
       this turn's now_us (its delay counts from the clock at setTimeout): the next turn fires it. */
    unsigned live = ts->timers_live;
    for (unsigned i = 0, seen = 0; i < TIMERS_PER_TASK_MAX && seen < live && fired < TIMER_FIRES_PER_TURN_MAX; i++) {
      TimerSlot *t = &ts->timers[i];
      if (!(t->generation & 1u)) continue;
      seen++;
      if (t->due_us > now_us) continue;
      fired++;
      JSContext *c = s->task.ctx;
      JSValue fn = JS_DupValue(c, t->fn);
      if (t->period_us) {
        /* Next due from now, not from the old due time: a late tick never bursts to catch up. */
        t->due_us = now_us + t->period_us;
      } else {
        timer_free(ts, c, t);
      }
      fw_call(s, fn, 0, NULL);
      if (s->task.state != TASK_RUNNING) break;
      JS_FreeValue(c, fn);
    }
  }
}

static uint64_t timer_deadline(void *ctx) {
  (void)ctx;
  if (g_due_known) return g_due_us;
  uint64_t d = HAL_DEADLINE_NONE;
  unsigned top;
  TaskSlot *slots = fw_slots(&top);
  for (unsigned k = 0; k < top; k++) {
    TaskSlot *s = &slots[k];
    if (!s->used || !s->started || s->task.state != TASK_RUNNING) continue;
    const TimerTask *ts = timers_of(s);
    for (unsigned i = 0, seen = 0; i < TIMERS_PER_TASK_MAX && seen < ts->timers_live; i++) {
      if (!(ts->timers[i].generation & 1u)) continue;
      seen++;
      if (ts->timers[i].due_us < d) d = ts->timers[i].due_us;
    }
  }
  g_due_us = d;
  g_due_known = 1;
  return d;
}

static void timer_register_source(void) {
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
};
