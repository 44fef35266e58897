/* The firmware's task table: spawn from the manifest, deliver within slices, kill and report faults; capabilities only through their registrations. */
#include "firmware.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hal.h"
#include "hal.h"
#include "image.h"
#include "online.h"
#include "pump.h"
#include "reload.h"

Firmware g_fw;

void fw_log(const char *who, const char *fmt, ...) {
  char line[LOG_LINE_BYTES_MAX + 1];
  int n = snprintf(line, sizeof line, "[%s] ", who);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  hal_log_write(line, strlen(line));
}

void fw_note_task_log(const TaskSlot *s, const char *line, size_t len) {
  /* Only root-task's own slot counts: a worker labelled "root-task" cannot declare the image online. */
  int is_root = g_fw.manifest && s->spec == manifest_task(g_fw.manifest, g_fw.manifest->root_task) && s->parent_id == 0;
  if (!is_root) return;
  char text[LOG_LINE_BYTES_MAX + 1];
  size_t n = len < LOG_LINE_BYTES_MAX ? len : LOG_LINE_BYTES_MAX;
  memcpy(text, line, n);
  text[n] = 0;
  online_observe_log(1, text);
}

const Manifest *fw_manifest(void) { return g_fw.manifest; }

uint64_t fw_boot_us(void) { return g_fw.boot_us; }

const uint8_t *fw_image_entry(const char *name, size_t *len) {
  Image img;
  char err[16];
  /* The image was verified at boot; re-reading the directory is cheap and keeps no second table. */
  image_read_cpio(g_fw.image, g_fw.image_len, &img, err, sizeof err);
  const ImageEntry *e = image_entry(&img, name);
  if (!e) return NULL;
  *len = e->len;
  return e->data;
}

TaskSlot *fw_slots(unsigned *top) {
  *top = g_fw.slots_top;
  return g_fw.slots;
}

void fw_slot_init_caps(TaskSlot *s) {
  size_t at = 0;
  for (unsigned c = 0; c < CAP_COUNT; c++) {
    const CapRegistration *r = CAP_REGISTRY[c];
    /* fw_caps_check has refused to boot if these do not fit. */
    s->cap_state[c] = r->task_state_bytes ? s->cap_pool + at : NULL;
    at += (r->task_state_bytes + TASK_CAP_STATE_ALIGN_BYTES - 1u) & ~(size_t)(TASK_CAP_STATE_ALIGN_BYTES - 1u);
    if (r->init_task) r->init_task(s);
  }
}

void fw_slot_take(TaskSlot *s) {
  unsigned i = (unsigned)(s - g_fw.slots);
  s->used = 1;
  if (i + 1u > g_fw.slots_top) g_fw.slots_top = i + 1u;
}

TaskSlot *fw_slot_by_id(uint32_t id) {
  if (!id) return NULL;
  for (unsigned i = 0; i < g_fw.slots_top; i++)
    if (g_fw.slots[i].used && !g_fw.slots[i].parked && g_fw.slots[i].task.id == id) return &g_fw.slots[i];
  return NULL;
}

TaskSlot *fw_slot_of_ctx(JSContext *ctx) {
  Task *t = JS_GetContextOpaque(ctx);
  return t ? (TaskSlot *)t->owner : NULL;
}

/* Where the next uncaught error's first line is copied too (a reload's answer); NULL = nowhere. */
static char *g_capture;
static size_t g_capture_len;

void fw_capture_uncaught(char *buf, size_t len) {
  g_capture = buf;
  g_capture_len = len;
}

static void hook_uncaught(Task *t, const char *text) {
  TaskSlot *s = t->owner;
  if (g_capture && g_capture_len && !g_capture[0]) snprintf(g_capture, g_capture_len, "%.*s", (int)strcspn(text, "\n"), text);
  /* Only the first line: a stack trace would take many log records. */
  size_t cut = strcspn(text, "\n");
  if (s->trial) {
    /* The new code of a reload: the reload's answer says why it was rolled back. */
    if (!s->trial_error[0]) snprintf(s->trial_error, sizeof s->trial_error, "%.*s", (int)cut, text);
    fw_log(s->label, "reload: the new code threw: %.*s", (int)cut, text);
    return;
  }
  fw_log(s->label, "uncaught %.*s", (int)cut, text);
}

static void hook_faulted(Task *t) {
  TaskSlot *s = t->owner;
  /* A kill is a decision, logged by whoever made it; only real faults are reported here. A reload's
     trial runtime is not the running task: its fault is the reload's answer and rollback line. */
  if (t->fault != TASK_FAULT_KILLED && !s->trial) fw_log(s->label, "task faulted: %s (%s)", task_fault_name(t->fault), t->detail);
}

static const TaskHooks g_hooks = {hook_uncaught, hook_faulted};

int fw_call(TaskSlot *s, JSValueConst fn, int argc, JSValueConst *argv) {
  return task_call(&s->task, fn, JS_UNDEFINED, argc, argv);
}

TaskSlot *fw_spawn(const ManifestTask *spec, const char *label, uint32_t parent_id, const char *args_json, char *err,
                   size_t err_len) {
  TaskSlot *s = NULL;
  for (unsigned i = 0; i < TASKS_MAX && !s; i++)
    if (!g_fw.slots[i].used) s = &g_fw.slots[i];
  if (!s) {
    snprintf(err, err_len, "task table full (%u tasks)", TASKS_MAX);
    return NULL;
  }
  memset(s, 0, sizeof *s);
  uint32_t id = ++g_fw.next_task_id;
  if (task_create(&s->task, id, spec->name, spec->arena_bytes, spec->cpu_slice_ms, &g_hooks, err, err_len) < 0) return NULL;
  fw_slot_take(s);
  s->task.owner = s;
  s->spec = spec;
  s->grants = spec->grants;
  s->parent_id = parent_id;
  snprintf(s->label, sizeof s->label, "%s", label && *label ? label : spec->name);
  s->main_fn = JS_UNDEFINED;
  s->handle = JS_UNDEFINED;
  fw_slot_init_caps(s);
  s->args_json = strdup(args_json ? args_json : (spec->config_json ? spec->config_json : "null"));
  const uint8_t *payload;
  size_t payload_len;
  fw_bundle_of(spec, &payload, &payload_len);
  if (task_load_module(&s->task, payload, payload_len, spec->bundle, &s->main_fn) < 0) {
    /* Kept as a faulted slot so the spawner's onFault hears why; its arena goes on kill. */
    s->started = 1;
  }
  return s;
}

/* Run by the tasks source for a fresh spawn, not inside spawn, so a slow main never eats the
   spawner's CPU slice; a hot reload runs it at once. */
int fw_start(TaskSlot *s) {
  s->started = 1;
  JSContext *ctx = s->task.ctx;
  JSValue args[2];
  args[0] = caps_new(ctx);
  args[1] = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, args[1], "id", JS_NewUint32(ctx, s->task.id));
  JS_SetPropertyStr(ctx, args[1], "label", JS_NewString(ctx, s->label));
  JS_SetPropertyStr(ctx, args[1], "task", JS_NewString(ctx, s->spec->name));
  JSValue a = JS_ParseJSON(ctx, s->args_json, strlen(s->args_json), "args");
  if (JS_IsException(a)) a = JS_NULL;
  JS_SetPropertyStr(ctx, args[1], "args", a);
  int rc = task_call_result(&s->task, s->main_fn, JS_UNDEFINED, 2, args, &s->handle);
  if (s->task.state == TASK_RUNNING) {
    JS_FreeValue(ctx, args[0]);
    JS_FreeValue(ctx, args[1]);
  }
  return rc;
}

void fw_kill(TaskSlot *s, TaskFault why, const char *detail) {
  task_mark_faulted(&s->task, why, detail);
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->release_task) CAP_REGISTRY[c]->release_task(s);
  free(s->args_json);
  s->args_json = NULL;
  free(s->bytecode);
  s->bytecode = NULL;
  task_destroy(&s->task);
  s->used = 0;
}

/* Tells the spawner (or root-task) that a task faulted, through the capability that supervises
   (task.onFault); it decides (kill, restart, revoke). */
static void report_fault(TaskSlot *s) {
  s->fault_reported = 1;
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->task_faulted && CAP_REGISTRY[c]->task_faulted(s) == 0) return;
  /* Nobody to decide: the firmware frees it so its arena is not held forever. */
  fw_log("firmware", "task %s (id %u) faulted with no supervisor: freed", s->label, s->task.id);
  fw_kill(s, s->task.fault, s->task.detail);
}

/* Bound on tasks started per pump turn, so a spawn storm cannot starve the consoles. */
#define TASK_STARTS_PER_TURN_MAX 4u

static void tasks_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  (void)now_us;
  unsigned starts = 0;
  for (unsigned i = 0; i < g_fw.slots_top; i++) {
    TaskSlot *s = &g_fw.slots[i];
    if (!s->used) continue;
    if (!s->started && s->task.state == TASK_RUNNING && starts < TASK_STARTS_PER_TURN_MAX) {
      starts++;
      fw_start(s);
    }
    if (s->used && s->task.state == TASK_RUNNING && s->task.jobs_pending) task_run_jobs(&s->task);
  }
  for (unsigned i = 0; i < g_fw.slots_top; i++) {
    TaskSlot *s = &g_fw.slots[i];
    if (s->used && s->task.state == TASK_FAULTED && !s->fault_reported) {
      if (s->parent_id == 0) {
        /* root-task itself: nothing above it decides, so the firmware stops with a clear reason. */
        fw_log("firmware", "root-task faulted: %s (%s); stopping", task_fault_name(s->task.fault), s->task.detail);
        s->fault_reported = 1;
        g_fw.exit_code = 3;
        g_fw.stop = 1;
        continue;
      }
      report_fault(s);
    }
  }
}

static uint64_t tasks_deadline(void *ctx) {
  (void)ctx;
  for (unsigned i = 0; i < g_fw.slots_top; i++) {
    TaskSlot *s = &g_fw.slots[i];
    if (!s->used) continue;
    if ((!s->started && s->task.state == TASK_RUNNING) || s->task.jobs_pending ||
        (s->task.state == TASK_FAULTED && !s->fault_reported))
      return 0;
  }
  return HAL_DEADLINE_NONE;
}

void tasks_register_source(void) {
  PumpSource src = {"tasks", tasks_poll, tasks_deadline, NULL};
  pump_add_source(&src);
}
