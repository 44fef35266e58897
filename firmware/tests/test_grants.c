/* Grant tests: a capability outside the task's manifest grants throws CapabilityError naming it; granted ones work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "firmware.h"

extern char g_stub_last_log[];

static Manifest g_manifest;

/* Puts a task with the given grants in slot 0 and returns it, caps installed as globalThis.caps. */
static TaskSlot *make_task(uint32_t grants) {
  memset(&g_fw, 0, sizeof g_fw);
  memset(&g_manifest, 0, sizeof g_manifest);
  snprintf(g_manifest.tasks[0].name, sizeof g_manifest.tasks[0].name, "probe");
  g_manifest.tasks[0].grants = grants;
  g_manifest.task_count = 1;
  g_fw.manifest = &g_manifest;
  TaskSlot *s = &g_fw.slots[0];
  char err[200];
  assert_int_equal(task_create(&s->task, 1, "probe", 256 * 1024, 50, NULL, err, sizeof err), 0);
  fw_slot_take(s);
  s->task.owner = s;
  s->spec = &g_manifest.tasks[0];
  s->grants = grants;
  snprintf(s->label, sizeof s->label, "probe");
  fw_slot_init_caps(s);
  JSContext *ctx = s->task.ctx;
  JSValue global = JS_GetGlobalObject(ctx);
  JS_SetPropertyStr(ctx, global, "caps", caps_new(ctx));
  JS_FreeValue(ctx, global);
  return s;
}

/* Evaluates src in the task; returns the result as a C string in out. */
static void eval_text(TaskSlot *s, const char *src, char *out, size_t cap) {
  JSContext *ctx = s->task.ctx;
  JSValue v = JS_Eval(ctx, src, strlen(src), "probe.js", JS_EVAL_TYPE_GLOBAL);
  if (JS_IsException(v)) v = JS_GetException(ctx);
  const char *t = JS_ToCString(ctx, v);
  snprintf(out, cap, "%s", t ? t : "(null)");
  if (t) JS_FreeCString(ctx, t);
  JS_FreeValue(ctx, v);
}

static const char *PROBE =
    "(() => { try { %s; return 'no throw'; } catch (e) { return [e.name, e.code, e.cap, e.message].join('|'); } })()";

static void probe(TaskSlot *s, const char *call, char *out, size_t cap) {
  char src[512];
  snprintf(src, sizeof src, PROBE, call);
  eval_text(s, src, out, cap);
}

static void ungranted_capability_throws_capability_error(void **state) {
  (void)state;
  TaskSlot *s = make_task(1u << CAP_LOG);
  char r[300];
  probe(s, "caps.net.listen({host:'127.0.0.1',port:1},{onAccept(){},onData(){},onClose(){}})", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|net|capability 'net' is not granted to task 'probe'");
  probe(s, "caps.task.list()", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|task|capability 'task' is not granted to task 'probe'");
  probe(s, "caps.timer.setTimeout(()=>{}, 1)", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|timer|capability 'timer' is not granted to task 'probe'");
  probe(s, "caps.channel.send(0, 'x')", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|channel|capability 'channel' is not granted to task 'probe'");
  probe(s, "caps.console.write('x')", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|console|capability 'console' is not granted to task 'probe'");
  probe(s, "caps.image.list()", r, sizeof r);
  assert_string_equal(r, "CapabilityError|ECAP|image|capability 'image' is not granted to task 'probe'");
  task_destroy(&s->task);
}

static void granted_capability_works(void **state) {
  (void)state;
  TaskSlot *s = make_task((1u << CAP_LOG) | (1u << CAP_TIMER));
  char r[300];
  probe(s, "caps.log.write('hello\\nforged line')", r, sizeof r);
  assert_string_equal(r, "no throw");
  /* One record per call: the newline cannot forge a second log line. */
  assert_string_equal(g_stub_last_log, "[probe] hello");
  eval_text(s, "typeof caps.timer.nowMs()", r, sizeof r);
  assert_string_equal(r, "number");
  task_destroy(&s->task);
}

static void granted_capability_reports_platform_errors(void **state) {
  (void)state;
  TaskSlot *s = make_task(1u << CAP_NET);
  char r[300];
  probe(s, "caps.net.listen({host:'127.0.0.1',port:1},{onAccept(){},onData(){},onClose(){}})", r, sizeof r);
  assert_string_equal(r, "CapError|Io|net|cannot listen on 127.0.0.1:1: address in use");
  probe(s, "caps.net.listen({host:'127.0.0.1',port:70000},{onAccept(){},onData(){},onClose(){}})", r, sizeof r);
  assert_string_equal(r, "CapError|Invalid|net|listen needs {host: string, port: 0..65535}");
  probe(s, "caps.net.write(12345, new Uint8Array(1))", r, sizeof r);
  assert_string_equal(r, "CapError|Closed|net|socket is closed or not this task's");
  task_destroy(&s->task);
}

static void timers_are_bounded_per_task(void **state) {
  (void)state;
  TaskSlot *s = make_task(1u << CAP_TIMER);
  char r[300];
  char src[200];
  snprintf(src, sizeof src, "for (let i = 0; i <= %d; i++) caps.timer.setTimeout(()=>{}, 1000)", TIMERS_PER_TASK_MAX);
  probe(s, src, r, sizeof r);
  assert_string_equal(r, "CapError|Busy|timer|task has 64 live timers already");
  CAP_REGISTRY[CAP_TIMER]->release_task(s);
  task_destroy(&s->task);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ungranted_capability_throws_capability_error),
      cmocka_unit_test(granted_capability_works),
      cmocka_unit_test(granted_capability_reports_platform_errors),
      cmocka_unit_test(timers_are_bounded_per_task),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
