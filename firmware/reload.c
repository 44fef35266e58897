/* Hot reload (dev images): swap a running task's bytecode in place, keeping its id, grants, quota, channels and state. */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hal.h"
#include "firmware.h"
#include "hal.h"

/*
 * The swap runs synchronously inside the caller's capability call, so no pump turn happens
 * while two runtimes share one task id: nothing is delivered to either until it is over.
 *
 *   1. the new bytecode loads into a fresh runtime in a spare slot (the old task runs on);
 *   2. the old task's snapshot() runs and its result crosses as JSON text;
 *   3. the new slot takes the task id, endpoints, inbox, pending links and spawn args, and its
 *      main runs; listeners it opens on the old host:port adopt the old sockets (bindings/net.c);
 *   4. restore(state) runs in the new runtime;
 *   5. commit: the old arena goes whole. If 3 or 4 threw or faulted, everything moves back and
 *      the new arena goes instead: the old code never stopped.
 */

static const char *reload_profile_refusal(void) {
  return strcmp(g_fw.manifest->profile, "dev") ? "hot reload is refused in a release image" : NULL;
}

/* Finds the function `name` on a main's returned handle object, or JS_UNDEFINED. */
/* A getter is the task's own code, so the read runs within its CPU slice; a fault shows in the
   task's state, which the callers check. */
static JSValue handle_fn(TaskSlot *s, const char *name) {
  JSContext *ctx = s->task.ctx;
  if (!JS_IsObject(s->handle)) return JS_UNDEFINED;
  JSValue f;
  if (task_get_property(&s->task, s->handle, name, &f) != 0) return JS_UNDEFINED;
  if (JS_IsFunction(ctx, f)) return f;
  JS_FreeValue(ctx, f);
  return JS_UNDEFINED;
}

/* Runs old's snapshot() and copies its JSON text out of the old arena. Returns 0 (state may be
   NULL: no snapshot), or -1 with err filled; the old task runs on unless snapshot() faulted it. */
static int take_snapshot(TaskSlot *old, char **state, size_t *state_len, char *err, size_t err_len) {
  *state = NULL;
  *state_len = 0;
  JSContext *ctx = old->task.ctx;
  JSValue fn = handle_fn(old, "snapshot");
  if (old->task.state != TASK_RUNNING) {
    snprintf(err, err_len, "reading snapshot of the running code faulted: %s", old->task.detail);
    return -1;
  }
  if (JS_IsUndefined(fn)) return 0;
  JSValue v;
  char why[TASK_DETAIL_BYTES_MAX + 1] = "";
  fw_capture_uncaught(why, sizeof why);
  int rc = task_call_result(&old->task, fn, old->handle, 0, NULL, &v);
  fw_capture_uncaught(NULL, 0);
  if (rc != 0) {
    if (old->task.state == TASK_RUNNING) JS_FreeValue(ctx, fn);
    snprintf(err, err_len, "snapshot() of the running code %s: %s", rc < 0 ? "faulted" : "threw",
             why[0] ? why : old->task.detail);
    return -1;
  }
  JS_FreeValue(ctx, fn);
  /* JSON.stringify runs the value's toJSON and getters: old code, so within a CPU slice too. */
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue json = JS_GetPropertyStr(ctx, global, "JSON");
  JS_FreeValue(ctx, global);
  JSValue stringify = JS_GetPropertyStr(ctx, json, "stringify");
  JSValue text;
  why[0] = '\0';
  fw_capture_uncaught(why, sizeof why);
  rc = task_call_result(&old->task, stringify, json, 1, &v, &text);
  fw_capture_uncaught(NULL, 0);
  if (rc != 0) {
    if (old->task.state == TASK_RUNNING) {
      JS_FreeValue(ctx, stringify);
      JS_FreeValue(ctx, json);
      JS_FreeValue(ctx, v);
    }
    if (rc < 0)
      snprintf(err, err_len, "snapshot() of the running code faulted: %s", old->task.detail);
    else
      snprintf(err, err_len, "snapshot() returned a value JSON cannot carry%s%s", why[0] ? ": " : "", why);
    return -1;
  }
  JS_FreeValue(ctx, stringify);
  JS_FreeValue(ctx, json);
  JS_FreeValue(ctx, v);
  if (JS_IsUndefined(text)) return 0; /* snapshot() returned undefined: nothing to keep */
  if (!JS_IsString(text)) {
    JS_FreeValue(ctx, text);
    snprintf(err, err_len, "snapshot() text could not be read");
    return -1;
  }
  size_t len;
  const char *s = JS_ToCStringLen(ctx, &len, text);
  JS_FreeValue(ctx, text);
  if (!s) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    snprintf(err, err_len, "snapshot() text could not be read");
    return -1;
  }
  if (len > RELOAD_SNAPSHOT_BYTES_MAX) {
    JS_FreeCString(ctx, s);
    snprintf(err, err_len, "snapshot of %zu bytes exceeds %u", len, RELOAD_SNAPSHOT_BYTES_MAX);
    return -1;
  }
  *state = malloc(len + 1);
  if (!*state) {
    JS_FreeCString(ctx, s);
    snprintf(err, err_len, "firmware out of memory for a %zu-byte snapshot", len);
    return -1;
  }
  memcpy(*state, s, len + 1);
  *state_len = len;
  JS_FreeCString(ctx, s);
  return 0;
}

/* Runs restore(state) in the new runtime. Returns 1 restored, 0 nothing to restore, -1 failed. */
static int give_state(TaskSlot *n, const char *state, size_t state_len, char *err, size_t err_len) {
  if (!state) return 0;
  JSContext *ctx = n->task.ctx;
  JSValue fn = handle_fn(n, "restore");
  if (n->task.state != TASK_RUNNING) {
    snprintf(err, err_len, "reading restore of the new code faulted");
    return -1;
  }
  if (JS_IsUndefined(fn)) return 0;
  JSValue v = JS_ParseJSON(ctx, state, state_len, "snapshot");
  if (JS_IsException(v)) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    JS_FreeValue(ctx, fn);
    snprintf(err, err_len, "the new runtime had no memory for the snapshot");
    return -1;
  }
  int rc = task_call(&n->task, fn, n->handle, 1, &v);
  if (rc != 0) {
    snprintf(err, err_len, "restore() of the new code %s", rc < 0 ? "faulted" : "threw");
    return -1;
  }
  JS_FreeValue(ctx, fn);
  JS_FreeValue(ctx, v);
  return 1;
}

/* Frees a slot whose JS values all live in its own arena. What outlives the task's code was handed
   over by the capabilities' reload hooks first; what belonged to this runtime (its timers, its
   handlers) is in the slot's capability state and goes with it. */
static void drop_slot(TaskSlot *s) {
  free(s->args_json);
  free(s->bytecode);
  task_destroy(&s->task);
  memset(s, 0, sizeof *s);
}

static void reload_begin(TaskSlot *old, TaskSlot *next) {
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->reload_begin) CAP_REGISTRY[c]->reload_begin(old, next);
}

static void reload_end(TaskSlot *old, TaskSlot *next, int committed) {
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->reload_end) CAP_REGISTRY[c]->reload_end(old, next, committed);
}

/* What reload and setBundle both check first: the image's profile, the size, the .qbc header,
   hash and engine fingerprint (the same qbc_parse as boot). 0, or a RELOAD_E_* with err filled. */
static int check_bytecode(const uint8_t *qbc, size_t qbc_len, QbcFile *q, char *err, size_t err_len) {
  const char *refusal = reload_profile_refusal();
  if (refusal) {
    snprintf(err, err_len, "%s", refusal);
    return RELOAD_E_POLICY;
  }
  if (qbc_len > RELOAD_BYTECODE_BYTES_MAX) {
    snprintf(err, err_len, "bytecode of %zu bytes exceeds %u", qbc_len, RELOAD_BYTECODE_BYTES_MAX);
    return RELOAD_E_BYTECODE;
  }
  QbcError qe = qbc_parse(qbc, qbc_len, engine_id(), q);
  if (qe != QBC_OK) {
    snprintf(err, err_len, "bytecode refused: %s", qbc_error_text(qe));
    return RELOAD_E_BYTECODE;
  }
  return 0;
}

int fw_reload(TaskSlot *old, const uint8_t *qbc, size_t qbc_len, ReloadReport *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  uint64_t t0 = hal_clock_us();
  if (!reload_profile_refusal() && (!old->used || !old->started || old->task.state != TASK_RUNNING)) {
    snprintf(err, err_len, "task %s is not running", old->label);
    return RELOAD_E_STATE;
  }
  QbcFile q;
  int bad = check_bytecode(qbc, qbc_len, &q, err, err_len);
  if (bad) return bad;
  TaskSlot *n = NULL;
  for (unsigned i = 0; i < TASKS_MAX && !n; i++)
    if (!g_fw.slots[i].used) n = &g_fw.slots[i];
  if (!n) {
    snprintf(err, err_len, "no spare task slot for the new runtime (%u tasks)", TASKS_MAX);
    return RELOAD_E_BUSY;
  }

  /* 1. Load the new code beside the old. */
  memset(n, 0, sizeof *n);
  char why[160];
  if (task_create(&n->task, old->task.id, old->spec->name, old->spec->arena_bytes, old->spec->cpu_slice_ms,
                  old->task.hooks, why, sizeof why) < 0) {
    snprintf(err, err_len, "no arena for the new runtime: %s", why);
    return RELOAD_E_BUSY;
  }
  n->task.owner = n;
  n->trial = 1;
  n->spec = old->spec;
  n->grants = old->grants;
  n->parent_id = old->parent_id;
  memcpy(n->label, old->label, sizeof n->label);
  n->main_fn = n->handle = JS_UNDEFINED;
  fw_slot_init_caps(n);
  n->bytecode = malloc(q.payload_bytes);
  n->args_json = strdup(old->args_json ? old->args_json : "null");
  if (!n->bytecode || !n->args_json) {
    drop_slot(n);
    snprintf(err, err_len, "firmware out of memory for %zu bytes of bytecode", q.payload_bytes);
    return RELOAD_E_BUSY;
  }
  memcpy(n->bytecode, q.payload, q.payload_bytes);
  n->bytecode_len = q.payload_bytes;
  if (task_load_module(&n->task, n->bytecode, n->bytecode_len, old->spec->bundle, &n->main_fn) < 0) {
    snprintf(err, err_len, "the new code failed to load: %s", n->trial_error[0] ? n->trial_error : n->task.detail);
    drop_slot(n);
    fw_log("firmware", "reload of %s (id %u) rolled back: %s", old->label, old->task.id, err);
    return RELOAD_E_START;
  }

  /* 2. Snapshot the old code's state. */
  char *state = NULL;
  size_t state_len = 0;
  if (take_snapshot(old, &state, &state_len, err, err_len) < 0) {
    drop_slot(n);
    return RELOAD_E_SNAPSHOT;
  }
  out->snapshot_bytes = state_len;

  /* 3. Hand the task over and start the new code. */
  uint32_t id = old->task.id;
  old->parked = 1;
  fw_slot_take(n);
  reload_begin(old, n);
  int ok = fw_start(n) == 0 && n->task.state == TASK_RUNNING;
  if (!ok) snprintf(err, err_len, "main of the new code %s", n->task.state == TASK_RUNNING ? "threw" : "faulted");

  /* 4. Restore. */
  int restored = 0;
  if (ok) {
    restored = give_state(n, state, state_len, err, err_len);
    if (restored < 0) ok = 0;
  }
  free(state);

  if (!ok) {
    /* Rollback: the old code takes everything back; it never stopped. */
    char detail[TASK_DETAIL_BYTES_MAX + 1];
    /* What JS threw, or the fault (quota, cpu, stack) with its detail. */
    snprintf(detail, sizeof detail, "%s", n->trial_error[0] ? n->trial_error : n->task.detail);
    reload_end(old, n, 0);
    drop_slot(n);
    old->parked = 0;
    if (detail[0] && strlen(err) + strlen(detail) + 3 < err_len) {
      size_t at = strlen(err);
      snprintf(err + at, err_len - at, " (%s)", detail);
    }
    fw_log("firmware", "reload of %s (id %u) rolled back: %s", old->label, id, err);
    return RELOAD_E_START;
  }

  /* 5. Commit: the old arena goes whole. */
  n->trial = 0;
  reload_end(old, n, 1);
  drop_slot(old);
  out->restored = restored > 0;
  out->state_dropped = state_len > 0 && restored == 0;
  out->elapsed_us = hal_clock_us() - t0;
  fw_log("firmware", "reloaded %s (id %u): %zu bytes of bytecode, state %s, %.2f ms", n->label, id, n->bytecode_len,
         out->restored ? "restored" : out->state_dropped ? "dropped (no restore())" : "none",
         (double)out->elapsed_us / 1000.0);
  return 0;
}

int fw_set_bundle(const ManifestTask *spec, const uint8_t *qbc, size_t qbc_len, char *err, size_t err_len) {
  QbcFile q;
  int bad = check_bytecode(qbc, qbc_len, &q, err, err_len);
  if (bad) return bad;
  unsigned i = (unsigned)(spec - g_fw.manifest->tasks);
  uint8_t *copy = malloc(q.payload_bytes);
  if (!copy) {
    snprintf(err, err_len, "firmware out of memory for %zu bytes of bytecode", q.payload_bytes);
    return RELOAD_E_BUSY;
  }
  memcpy(copy, q.payload, q.payload_bytes);
  free(g_fw.bundles[i].payload);
  g_fw.bundles[i].payload = copy;
  g_fw.bundles[i].payload_len = q.payload_bytes;
  return 0;
}

void fw_bundle_of(const ManifestTask *spec, const uint8_t **payload, size_t *len) {
  unsigned i = (unsigned)(spec - g_fw.manifest->tasks);
  if (g_fw.bundles[i].payload) {
    *payload = g_fw.bundles[i].payload;
    *len = g_fw.bundles[i].payload_len;
  } else {
    *payload = spec->payload;
    *len = spec->payload_len;
  }
}
