/* Task: a JSRuntime over a private arena, with slice-bounded calls and faults that stay inside the task. */
#include "task.h"

#include <stdio.h>
#include <string.h>

#include "engine_hal.h"

/*
 * quickjs-ng consults the interrupt handler only every 10000 back-edges and calls, and not at
 * all inside some builtins (quickjs-ng issue 1672: Array sort/fill run to completion). So once
 * a slice is over, allocation fails too: an allocating builtin then unwinds within a few
 * allocations, and the loop around it reaches the handler quickly. The clock is read every
 * TASK_ALLOCS_PER_CLOCK_CHECK allocations to keep the hot path cheap.
 */
#define TASK_ALLOCS_PER_CLOCK_CHECK 32u
/* Allocations granted after the handler fires, so the uncatchable "interrupted" error object can
   be built; without them it would degrade to a catchable out-of-memory and the loop would go on. */
#define TASK_INTERRUPT_GRACE_ALLOCS 16u

/*
 * Whether the running slice is spent. The deadline is on the monotonic clock, read cheaply and
 * often; on a host that shares its CPUs, wall time also passes while the pump is preempted. So when
 * the deadline passes, the thread's CPU clock is read (rarely: once per expiry) and the task is given
 * a further slice measured in CPU from that moment: it faults once it has run a whole slice of CPU
 * past the mark, however long the host kept it waiting. A runaway task thus runs at most two slices
 * of CPU on the host; where the platform has no thread clock (seL4) the first expiry is the fault.
 */
static int slice_spent(Task *t) {
  uint64_t now = hal_clock_us();
  if (now < t->slice_deadline_us) return 0;
  uint64_t cpu = hal_thread_cpu_us();
  if (cpu == HAL_THREAD_CPU_NONE) return 1;
  uint64_t slice_us = (uint64_t)t->cpu_slice_ms * 1000u;
  if (t->slice_cpu_mark_us == HAL_THREAD_CPU_NONE) t->slice_cpu_mark_us = cpu;
  uint64_t ran_us = cpu - t->slice_cpu_mark_us;
  if (ran_us >= slice_us) return 1;
  t->slice_deadline_us = now + (slice_us - ran_us);
  return 0;
}

static int slice_over(Task *t) {
  if (t->interrupted) {
    if (t->alloc_grace) {
      t->alloc_grace--;
      return 0;
    }
    return 1;
  }
  if (!t->slice_deadline_us || ++t->allocs_since_check < TASK_ALLOCS_PER_CLOCK_CHECK) return 0;
  t->allocs_since_check = 0;
  if (!slice_spent(t)) return 0;
  t->interrupted = 1;
  return 1;
}

static void *task_js_calloc(void *opaque, size_t count, size_t size) {
  Task *t = opaque;
  return slice_over(t) ? NULL : arena_calloc(t->arena, count, size);
}
static void *task_js_malloc(void *opaque, size_t size) {
  Task *t = opaque;
  return slice_over(t) ? NULL : arena_malloc(t->arena, size);
}
static void task_js_free(void *opaque, void *ptr) { arena_free(((Task *)opaque)->arena, ptr); }
static void *task_js_realloc(void *opaque, void *ptr, size_t size) {
  Task *t = opaque;
  /* A shrink or free must always succeed; only growth is refused after the slice. */
  if (size > arena_usable_size(ptr) && slice_over(t)) return NULL;
  return arena_realloc(t->arena, ptr, size);
}

static const JSMallocFunctions task_malloc_functions = {
    task_js_calloc, task_js_malloc, task_js_free, task_js_realloc, arena_usable_size,
};

static int task_interrupt(JSRuntime *rt, void *opaque) {
  (void)rt;
  Task *t = opaque;
  if (t->slice_deadline_us && slice_spent(t)) {
    t->interrupted = 1;
    t->alloc_grace = TASK_INTERRUPT_GRACE_ALLOCS;
    return 1; /* quickjs-ng raises an uncatchable "interrupted" error */
  }
  return 0;
}

/*
 * A task's context has the ES language a bundle needs and nothing that reaches past its caps:
 * no Date or performance (time comes from caps.timer), no Proxy, WeakRef/FinalizationRegistry or
 * atob/btoa (js/ has its own base64). Leaving them out keeps an idle worker's arena small (each
 * intrinsic is prototypes, functions and atoms in every task) and makes "time only through caps"
 * a property of the engine, not only of code review. Eval stays: the embedding API's JS_Eval
 * (tests, diagnostics) needs it; bundles never parse source.
 */
static JSContext *task_new_context(JSRuntime *rt) {
  JSContext *ctx = JS_NewContextRaw(rt);
  if (!ctx) return NULL;
  if (JS_AddIntrinsicBaseObjects(ctx) || JS_AddIntrinsicEval(ctx) || JS_AddIntrinsicRegExp(ctx) ||
      JS_AddIntrinsicJSON(ctx) || JS_AddIntrinsicMapSet(ctx) || JS_AddIntrinsicTypedArrays(ctx) ||
      JS_AddIntrinsicPromise(ctx)) {
    JS_FreeContext(ctx);
    return NULL;
  }
  return ctx;
}

const char *task_fault_name(TaskFault f) {
  switch (f) {
  case TASK_FAULT_NONE: return "none";
  case TASK_FAULT_QUOTA: return "quota";
  case TASK_FAULT_CPU: return "cpu";
  case TASK_FAULT_STACK: return "stack";
  case TASK_FAULT_LOAD: return "load";
  case TASK_FAULT_KILLED: return "killed";
  }
  return "unknown";
}

int task_create(Task *t, uint32_t id, const char *name, size_t arena_bytes, uint32_t cpu_slice_ms,
                const TaskHooks *hooks, char *err, size_t err_len) {
  memset(t, 0, sizeof *t);
  t->id = id;
  snprintf(t->name, sizeof t->name, "%s", name);
  t->hooks = hooks;
  if (arena_bytes < TASK_ARENA_BYTES_MIN || arena_bytes > TASK_ARENA_BYTES_MAX) {
    snprintf(err, err_len, "arena_bytes %zu outside %u..%u", arena_bytes, TASK_ARENA_BYTES_MIN, TASK_ARENA_BYTES_MAX);
    return -1;
  }
  if (cpu_slice_ms < TASK_CPU_SLICE_MS_MIN || cpu_slice_ms > TASK_CPU_SLICE_MS_MAX) {
    snprintf(err, err_len, "cpu_slice_ms %u outside %u..%u", cpu_slice_ms, TASK_CPU_SLICE_MS_MIN, TASK_CPU_SLICE_MS_MAX);
    return -1;
  }
  t->cpu_slice_ms = cpu_slice_ms;
  t->mem = hal_mem_alloc(arena_bytes);
  if (!t->mem) {
    snprintf(err, err_len, "platform has no %zu bytes for the arena", arena_bytes);
    return -1;
  }
  t->mem_bytes = arena_bytes;
  t->arena = arena_init(t->mem, arena_bytes);
  if (t->arena) t->rt = JS_NewRuntime2(&task_malloc_functions, t);
  if (t->rt) t->ctx = task_new_context(t->rt);
  if (!t->ctx) {
    snprintf(err, err_len, "arena of %zu bytes is too small for a runtime and context", arena_bytes);
    hal_mem_free(t->mem, t->mem_bytes);
    t->mem = NULL;
    return -1;
  }
  JS_SetMemoryLimit(t->rt, arena_bytes / 100u * TASK_MEMORY_LIMIT_PERCENT);
  JS_SetMaxStackSize(t->rt, TASK_STACK_BYTES);
  JS_SetInterruptHandler(t->rt, task_interrupt, t);
  JS_SetContextOpaque(t->ctx, t);
  t->state = TASK_RUNNING;
  return 0;
}

void task_mark_faulted(Task *t, TaskFault fault, const char *detail) {
  if (t->state != TASK_RUNNING) return;
  t->state = TASK_FAULTED;
  t->fault = fault;
  snprintf(t->detail, sizeof t->detail, "%s", detail);
  if (t->hooks && t->hooks->faulted) t->hooks->faulted(t);
}

/* Writes "Name: message" (and the first stack lines) of an exception into out. */
static void describe_exception(JSContext *ctx, JSValueConst exc, char *out, size_t out_len) {
  const char *msg = JS_ToCString(ctx, exc);
  if (!msg) {
    snprintf(out, out_len, "(exception not printable)");
    return;
  }
  size_t n = (size_t)snprintf(out, out_len, "%s", msg);
  JS_FreeCString(ctx, msg);
  if (JS_IsError(exc) && n + 2 < out_len) {
    JSValue stack = JS_GetPropertyStr(ctx, exc, "stack");
    const char *s = JS_IsString(stack) ? JS_ToCString(ctx, stack) : NULL;
    if (s) {
      snprintf(out + n, out_len - n, "\n%s", s);
      JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, stack);
  }
}

/* Records an out-of-memory fault with what the arena and the engine limit say, so a reader can
   tell the engine's limit (the intended first stop) from the arena itself running dry. */
static void task_fault_oom(Task *t) {
  char d[TASK_DETAIL_BYTES_MAX + 1];
  ArenaStats st = arena_stats(t->arena);
  snprintf(d, sizeof d, "out of memory: %zu of %zu arena bytes in use, engine limit %zu", st.bytes_used, t->mem_bytes,
           t->mem_bytes / 100u * TASK_MEMORY_LIMIT_PERCENT);
  task_mark_faulted(t, TASK_FAULT_QUOTA, d);
}

/* Decides what an exception that reached the pump means. Returns 1 (plain JS error) or -1 (fault). */
static int task_settle_exception(Task *t) {
  JSValue exc = JS_GetException(t->ctx);
  int rc = 1;
  char text[TASK_DETAIL_BYTES_MAX + 1];
  if (t->interrupted || JS_IsUncatchableError(exc)) {
    snprintf(text, sizeof text, "cpu slice of %u ms exhausted", t->cpu_slice_ms);
    task_mark_faulted(t, TASK_FAULT_CPU, text);
    rc = -1;
  } else if (JS_IsNull(exc)) {
    /* quickjs-ng throws null when the out-of-memory error object itself cannot be allocated:
       the usual case once its limit is reached, as the error needs memory too. */
    task_fault_oom(t);
    rc = -1;
  } else {
    describe_exception(t->ctx, exc, text, sizeof text);
    if (strncmp(text, "InternalError: out of memory", 28) == 0 || strcmp(text, "(exception not printable)") == 0) {
      task_fault_oom(t);
      rc = -1;
    } else if (strncmp(text, "RangeError: Maximum call stack size exceeded", 44) == 0) {
      task_mark_faulted(t, TASK_FAULT_STACK, "stack overflow");
      rc = -1;
    } else if (t->hooks && t->hooks->uncaught) {
      t->hooks->uncaught(t, text);
    }
  }
  /* A faulted runtime is never touched again: its arena is dropped whole on kill. */
  if (rc == 1) JS_FreeValue(t->ctx, exc);
  return rc;
}

static void slice_begin(Task *t) {
  t->interrupted = 0;
  t->alloc_grace = 0;
  uint64_t now = hal_clock_us();
  t->slice_deadline_us = now + (uint64_t)t->cpu_slice_ms * 1000u;
  t->slice_cpu_mark_us = HAL_THREAD_CPU_NONE;
  JS_UpdateStackTop(t->rt);
}

static void slice_end(Task *t, uint64_t started) {
  t->slice_deadline_us = 0;
  t->cpu_us += hal_clock_us() - started;
}

/* Runs up to TASK_JOBS_PER_DELIVERY_MAX promise jobs in the current slice. */
static int drain_jobs(Task *t) {
  unsigned n = 0;
  int rc = 0;
  while (t->state == TASK_RUNNING && JS_IsJobPending(t->rt)) {
    if (n++ >= TASK_JOBS_PER_DELIVERY_MAX) break;
    JSContext *jctx;
    if (JS_ExecutePendingJob(t->rt, &jctx) < 0) {
      int r = task_settle_exception(t);
      if (r < 0) return -1;
      rc = 1;
    }
  }
  t->jobs_pending = t->state == TASK_RUNNING && JS_IsJobPending(t->rt);
  return rc;
}

int task_call_result(Task *t, JSValueConst fn, JSValueConst this_obj, int argc, JSValueConst *argv, JSValue *result) {
  *result = JS_UNDEFINED;
  if (t->state != TASK_RUNNING) return -1;
  uint64_t started = hal_clock_us();
  slice_begin(t);
  JSValue r = JS_Call(t->ctx, fn, this_obj, argc, argv);
  int rc = 0;
  if (JS_IsException(r)) rc = task_settle_exception(t);
  if (rc >= 0) {
    int j = drain_jobs(t);
    if (j != 0) rc = j;
  }
  slice_end(t, started);
  /* A fault leaves the runtime untouchable, so only a clean call hands its value over. */
  if (rc == 0) *result = r;
  else if (rc > 0 && !JS_IsException(r)) JS_FreeValue(t->ctx, r);
  return rc;
}

int task_call(Task *t, JSValueConst fn, JSValueConst this_obj, int argc, JSValueConst *argv) {
  JSValue r;
  int rc = task_call_result(t, fn, this_obj, argc, argv, &r);
  if (rc == 0) JS_FreeValue(t->ctx, r);
  return rc;
}

int task_get_property(Task *t, JSValueConst obj, const char *name, JSValue *out) {
  *out = JS_UNDEFINED;
  if (t->state != TASK_RUNNING) return -1;
  uint64_t started = hal_clock_us();
  slice_begin(t);
  JSValue v = JS_GetPropertyStr(t->ctx, obj, name);
  int rc = 0;
  if (JS_IsException(v)) rc = task_settle_exception(t);
  else *out = v;
  slice_end(t, started);
  return rc;
}

void task_slice_extend(Task *t, uint64_t us) {
  if (t->slice_deadline_us) t->slice_deadline_us += us;
}

int task_run_jobs(Task *t) {
  if (t->state != TASK_RUNNING) return -1;
  uint64_t started = hal_clock_us();
  slice_begin(t);
  int rc = drain_jobs(t);
  slice_end(t, started);
  return rc;
}

int task_load_module(Task *t, const uint8_t *payload, size_t len, const char *bundle, JSValue *main_fn) {
  *main_fn = JS_UNDEFINED;
  uint64_t started = hal_clock_us();
  slice_begin(t);
  char why[TASK_DETAIL_BYTES_MAX + 1];
  JSValue obj = JS_ReadObject(t->ctx, payload, len, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(obj)) goto failed;
  if (JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE) {
    JS_FreeValue(t->ctx, obj);
    snprintf(why, sizeof why, "%s: bytecode is not an ES module", bundle);
    goto refused;
  }
  JSModuleDef *m = JS_VALUE_GET_PTR(obj);
  if (JS_ResolveModule(t->ctx, obj) < 0) {
    JS_FreeValue(t->ctx, obj);
    goto failed;
  }
  JSValue done = JS_EvalFunction(t->ctx, obj); /* consumes obj */
  if (JS_IsException(done)) goto failed;
  if (drain_jobs(t) < 0) {
    JS_FreeValue(t->ctx, done);
    goto faulted;
  }
  /* Module evaluation yields a promise; a rejected one carries the top-level error. */
  if (JS_PromiseState(t->ctx, done) == JS_PROMISE_REJECTED) {
    JS_Throw(t->ctx, JS_PromiseResult(t->ctx, done));
    JS_FreeValue(t->ctx, done);
    goto failed;
  }
  JS_FreeValue(t->ctx, done);
  JSValue ns = JS_GetModuleNamespace(t->ctx, m);
  if (JS_IsException(ns)) goto failed;
  JSValue f = JS_GetPropertyStr(t->ctx, ns, "default");
  JS_FreeValue(t->ctx, ns);
  if (JS_IsException(f)) goto failed;
  if (!JS_IsFunction(t->ctx, f)) {
    JS_FreeValue(t->ctx, f);
    snprintf(why, sizeof why, "%s: bundle has no default export function (its main)", bundle);
    goto refused;
  }
  *main_fn = f;
  slice_end(t, started);
  return 0;

failed:
  if (task_settle_exception(t) < 0) goto faulted;
  snprintf(why, sizeof why, "%s: module failed to load", bundle);
refused:
  task_mark_faulted(t, TASK_FAULT_LOAD, why);
faulted:
  slice_end(t, started);
  return -1;
}

void task_destroy(Task *t) {
  /* No JS_FreeRuntime: the runtime lives entirely in the arena, and a faulted runtime may be in
     any state. Returning the arena frees everything the task ever allocated, in O(1). */
  if (t->mem) hal_mem_free(t->mem, t->mem_bytes);
  t->mem = NULL;
  t->arena = NULL;
  t->rt = NULL;
  t->ctx = NULL;
  if (t->state == TASK_RUNNING) t->state = TASK_EXITED;
}

ArenaStats task_arena_stats(const Task *t) {
  ArenaStats s;
  if (t->arena) return arena_stats(t->arena);
  memset(&s, 0, sizeof s);
  return s;
}
