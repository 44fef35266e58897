/* Task tests: memory quota, CPU interrupt (loops, builtins, RegExp), stack, load refusal, isolation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine_hal.h"
#include "task.h"

#define SMALL_ARENA_BYTES (256u * 1024u)
#define SLICE_MS 50u

static char g_uncaught[512];
static int g_faults;

static void on_uncaught(Task *t, const char *text) {
  (void)t;
  strncpy(g_uncaught, text, sizeof g_uncaught - 1);
}
static void on_fault(Task *t) {
  (void)t;
  g_faults++;
}
static const TaskHooks hooks = {on_uncaught, on_fault};

/* Compiles module source to a bytecode payload with a throwaway runtime, as cohc does. */
static uint8_t *compile_module(const char *src, size_t *len) {
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx = JS_NewContext(rt);
  JSValue obj = JS_Eval(ctx, src, strlen(src), "test.js", JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  assert_false(JS_IsException(obj));
  size_t n;
  uint8_t *out = JS_WriteObject(ctx, &n, obj, JS_WRITE_OBJ_BYTECODE);
  uint8_t *copy = malloc(n);
  memcpy(copy, out, n);
  js_free(ctx, out);
  JS_FreeValue(ctx, obj);
  JS_FreeContext(ctx);
  JS_FreeRuntime(rt);
  *len = n;
  return copy;
}

/* Creates a task from source, lets `install` (may be NULL) add globals, and runs its main; returns task_call's result. */
static int run_main_with(Task *t, const char *src, size_t arena, void (*install)(Task *t)) {
  char err[200];
  assert_int_equal(task_create(t, 1, "t", arena, SLICE_MS, &hooks, err, sizeof err), 0);
  if (install) install(t);
  size_t n;
  uint8_t *bc = compile_module(src, &n);
  JSValue main_fn;
  int rc = task_load_module(t, bc, n, "test.qbc", &main_fn);
  free(bc);
  if (rc < 0) return -2;
  rc = task_call(t, main_fn, JS_UNDEFINED, 0, NULL);
  if (t->state == TASK_RUNNING) JS_FreeValue(t->ctx, main_fn);
  return rc;
}

static int run_main(Task *t, const char *src, size_t arena) { return run_main_with(t, src, arena, NULL); }

static void healthy_task_runs(void **state) {
  (void)state;
  Task t;
  assert_int_equal(run_main(&t, "export default function main(){ globalThis.x = [1,2,3].map(v=>v*2).join(); }", SMALL_ARENA_BYTES), 0);
  assert_int_equal(t.state, TASK_RUNNING);
  assert_true(task_arena_stats(&t).bytes_used > 0);
  task_destroy(&t);
}

static void allocating_forever_faults_with_quota(void **state) {
  (void)state;
  Task t;
  int before = g_faults;
  int rc = run_main(&t, "export default function main(){ const a=[]; for(;;) a.push(new Array(64).fill('x'+a.length)); }",
                    SMALL_ARENA_BYTES);
  assert_int_equal(rc, -1);
  assert_int_equal(t.state, TASK_FAULTED);
  assert_int_equal(t.fault, TASK_FAULT_QUOTA);
  assert_int_equal(g_faults, before + 1);
  /* The arena, not the process, ran out. */
  assert_true(task_arena_stats(&t).bytes_used <= SMALL_ARENA_BYTES);
  task_destroy(&t);
}

static void catching_oom_and_retrying_still_stops(void **state) {
  (void)state;
  Task t;
  /* JS may catch the out-of-memory error; a task that keeps trying is stopped by quota or CPU. */
  int rc = run_main(&t,
                    "export default function main(){ const keep=[]; for(;;){ try { keep.push(new Array(256).fill(1)); } catch(e) {} } }",
                    SMALL_ARENA_BYTES);
  assert_int_equal(rc, -1);
  assert_int_equal(t.state, TASK_FAULTED);
  assert_true(t.fault == TASK_FAULT_QUOTA || t.fault == TASK_FAULT_CPU);
  task_destroy(&t);
}

static void spinning_task_is_interrupted(void **state) {
  (void)state;
  Task t;
  uint64_t t0 = hal_clock_us();
  int rc = run_main(&t, "export default function main(){ for(;;){} }", SMALL_ARENA_BYTES);
  uint64_t took_ms = (hal_clock_us() - t0) / 1000u;
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  assert_true(took_ms < 10u * SLICE_MS); /* interrupted near its slice, not at some far bound */
  task_destroy(&t);
}

/* preempt(ms): the thread sleeps, as when the host runs something else: wall time passes, CPU does not. */
static JSValue js_preempt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t ms = 0;
  if (argc > 0 && JS_ToInt32(ctx, &ms, argv[0]) < 0) return JS_EXCEPTION;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  return JS_UNDEFINED;
}

static void install_preempt(Task *t) {
  JSValue global = JS_GetGlobalObject(t->ctx);
  JS_SetPropertyStr(t->ctx, global, "preempt", JS_NewCFunction(t->ctx, js_preempt, "preempt", 1));
  JS_FreeValue(t->ctx, global);
}

/* run_main with a global preempt(ms) native. */
static int run_main_preempted(Task *t, const char *src) { return run_main_with(t, src, SMALL_ARENA_BYTES, install_preempt); }

/* Regression (issue 13 soak): on a loaded host root-task's 50 ms wall-clock slice ran out while the
   pump was preempted, root-task faulted on cpu and the whole hive stopped. A slice is CPU: a task
   the host kept waiting past its deadline finishes its work. */
static void slice_preempted_by_the_host_is_not_a_cpu_fault(void **state) {
  (void)state;
  Task t;
  int rc = run_main_preempted(&t, "export default function main(){ preempt(150); let s = 0; "
                                  "for (let i = 0; i < 300000; i++) s += i % 7; globalThis.s = [s].join(); }");
  assert_int_equal(rc, 0);
  assert_int_equal(t.state, TASK_RUNNING);
  task_destroy(&t);
}

/* ...and a task that spins after being preempted still faults on cpu, within about a slice of CPU. */
static void preempted_then_spinning_task_still_faults(void **state) {
  (void)state;
  Task t;
  uint64_t t0 = hal_clock_us();
  int rc = run_main_preempted(&t, "export default function main(){ preempt(150); for(;;){} }");
  uint64_t took_ms = (hal_clock_us() - t0) / 1000u;
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  assert_true(took_ms < 150u + 10u * SLICE_MS);
  task_destroy(&t);
}

static void catch_cannot_swallow_interrupt(void **state) {
  (void)state;
  Task t;
  int rc = run_main(&t, "export default function main(){ for(;;){ try { for(;;){} } catch(e) {} finally {} } }", SMALL_ARENA_BYTES);
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  task_destroy(&t);
}

static void builtin_loops_are_interrupted(void **state) {
  (void)state;
  /* quickjs-ng issue 1672: some Array builtins do not poll the handler inside one call. One call
     is bounded by the arena (the array must fit), so a loop of them is still interrupted between calls. */
  Task t;
  int rc = run_main(&t,
                    "export default function main(){ const a = new Array(20000); for(;;){ a.fill(Math.random()); a.sort(); } }",
                    4u * 1024u * 1024u);
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  task_destroy(&t);
}

static void non_allocating_builtin_loop_is_interrupted(void **state) {
  (void)state;
  /* fill() neither allocates nor polls: only the interrupt counter between calls stops this. */
  Task t;
  uint64_t t0 = hal_clock_us();
  int rc = run_main(&t, "export default function main(){ const a = new Array(100000).fill(0); for(;;) a.fill(1); }",
                    4u * 1024u * 1024u);
  uint64_t took_ms = (hal_clock_us() - t0) / 1000u;
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  assert_true(took_ms < 2000u);
  task_destroy(&t);
}

static void catastrophic_regexp_is_interrupted(void **state) {
  (void)state;
  Task t;
  int rc = run_main(&t, "export default function main(){ /^(a+)+$/.test('a'.repeat(40) + 'b'); }", SMALL_ARENA_BYTES);
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_CPU);
  task_destroy(&t);
}

static void stack_overflow_faults(void **state) {
  (void)state;
  Task t;
  int rc = run_main(&t, "function f(n){ return f(n+1)+1; } export default function main(){ f(0); }", 4u * 1024u * 1024u);
  assert_int_equal(rc, -1);
  assert_int_equal(t.fault, TASK_FAULT_STACK);
  task_destroy(&t);
}

static void uncaught_error_is_reported_and_task_goes_on(void **state) {
  (void)state;
  Task t;
  g_uncaught[0] = 0;
  int rc = run_main(&t, "export default function main(){ throw new TypeError('boom'); }", SMALL_ARENA_BYTES);
  assert_int_equal(rc, 1);
  assert_int_equal(t.state, TASK_RUNNING);
  assert_non_null(strstr(g_uncaught, "TypeError: boom"));
  task_destroy(&t);
}

static void module_without_default_export_refused(void **state) {
  (void)state;
  Task t;
  int rc = run_main(&t, "export const x = 1;", SMALL_ARENA_BYTES);
  assert_int_equal(rc, -2);
  assert_int_equal(t.fault, TASK_FAULT_LOAD);
  assert_non_null(strstr(t.detail, "no default export"));
  task_destroy(&t);
}

static void garbage_bytecode_refused_without_crash(void **state) {
  (void)state;
  size_t n;
  uint8_t *bc = compile_module("export default function main(){}", &n);
  for (size_t cut = 1; cut < n; cut += (n / 40) + 1) {
    Task t;
    char err[200];
    assert_int_equal(task_create(&t, 1, "t", SMALL_ARENA_BYTES, SLICE_MS, &hooks, err, sizeof err), 0);
    JSValue main_fn;
    assert_int_equal(task_load_module(&t, bc, cut, "cut.qbc", &main_fn), -1);
    assert_int_equal(t.state, TASK_FAULTED);
    task_destroy(&t);
  }
  free(bc);
}

static void faults_stay_inside_their_task(void **state) {
  (void)state;
  Task healthy, hog;
  assert_int_equal(run_main(&healthy, "export default function main(){ globalThis.n = 41; }", SMALL_ARENA_BYTES), 0);
  assert_int_equal(run_main(&hog, "export default function main(){ const a=[]; for(;;) a.push({a}); }", SMALL_ARENA_BYTES), -1);
  task_destroy(&hog);
  JSValue r = JS_Eval(healthy.ctx, "n + 1", 5, "probe", JS_EVAL_TYPE_GLOBAL);
  int32_t v = 0;
  JS_ToInt32(healthy.ctx, &v, r);
  assert_int_equal(v, 42);
  JS_FreeValue(healthy.ctx, r);
  task_destroy(&healthy);
}

static void create_refuses_out_of_bounds_limits(void **state) {
  (void)state;
  Task t;
  char err[200];
  assert_int_equal(task_create(&t, 1, "t", 1024, SLICE_MS, &hooks, err, sizeof err), -1);
  assert_non_null(strstr(err, "arena_bytes"));
  assert_int_equal(task_create(&t, 1, "t", SMALL_ARENA_BYTES, 0, &hooks, err, sizeof err), -1);
  assert_non_null(strstr(err, "cpu_slice_ms"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(healthy_task_runs),
      cmocka_unit_test(allocating_forever_faults_with_quota),
      cmocka_unit_test(catching_oom_and_retrying_still_stops),
      cmocka_unit_test(spinning_task_is_interrupted),
      cmocka_unit_test(slice_preempted_by_the_host_is_not_a_cpu_fault),
      cmocka_unit_test(preempted_then_spinning_task_still_faults),
      cmocka_unit_test(catch_cannot_swallow_interrupt),
      cmocka_unit_test(builtin_loops_are_interrupted),
      cmocka_unit_test(non_allocating_builtin_loop_is_interrupted),
      cmocka_unit_test(catastrophic_regexp_is_interrupted),
      cmocka_unit_test(stack_overflow_faults),
      cmocka_unit_test(uncaught_error_is_reported_and_task_goes_on),
      cmocka_unit_test(module_without_default_export_refused),
      cmocka_unit_test(garbage_bytecode_refused_without_crash),
      cmocka_unit_test(faults_stay_inside_their_task),
      cmocka_unit_test(create_refuses_out_of_bounds_limits),
  };
  const char *only = getenv("TEST_ONLY");
  if (only) cmocka_set_test_filter(only);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
