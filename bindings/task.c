/* The `task` capability: spawn manifest tasks, kill them, list them, hear of their faults. */
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "engine_hal.h"
#include "hal.h"
#include "reload.h"
#include "task_table.h"

/* What the task capability keeps per task (in its slot). */
typedef struct TaskCapTask {
  JSValue on_fault; /* task.onFault: this task supervises its children */
} TaskCapTask;

static TaskCapTask *task_cap_of(TaskSlot *s) { return fw_cap_state(s, CAP_TASK); }

static JSValue js_task_spawn(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  TaskSlot *me = fw_slot_of_ctx(ctx);
  JSValue name_v = JS_GetPropertyStr(ctx, argv[0], "task");
  JSValue label_v = JS_GetPropertyStr(ctx, argv[0], "label");
  JSValue args_v = JS_GetPropertyStr(ctx, argv[0], "args");
  JSValue link_v = JS_GetPropertyStr(ctx, argv[0], "link");
  uint32_t link_id = 0;
  int link_bad = !JS_IsUndefined(link_v) && (!JS_IsNumber(link_v) || JS_ToUint32(ctx, &link_id, link_v) < 0);
  TaskSlot *linked = link_id ? fw_slot_by_id(link_id) : NULL;
  JS_FreeValue(ctx, link_v);
  const char *name = JS_IsString(name_v) ? JS_ToCString(ctx, name_v) : NULL;
  const char *label = JS_IsString(label_v) ? JS_ToCString(ctx, label_v) : NULL;
  JSValue args_text = JS_IsUndefined(args_v) ? JS_UNDEFINED : JS_JSONStringify(ctx, args_v, JS_UNDEFINED, JS_UNDEFINED);
  const char *args = JS_IsString(args_text) ? JS_ToCString(ctx, args_text) : NULL;
  JSValue r;
  const Manifest *manifest = fw_manifest();
  const ManifestTask *spec = name ? manifest_task(manifest, name) : NULL;
  if (!name) {
    r = cap_throw(ctx, CAP_TASK, "Invalid", "spawn needs {task: <manifest task name>}");
  } else if (!spec) {
    r = cap_throw(ctx, CAP_TASK, "NotFound", "no task '%s' in the manifest", name);
  } else if (!strcmp(spec->name, manifest->root_task)) {
    r = cap_throw(ctx, CAP_TASK, "Invalid", "the root task cannot be spawned twice");
  } else if (label && strlen(label) > TASK_NAME_BYTES_MAX) {
    r = cap_throw(ctx, CAP_TASK, "Invalid", "label longer than %u bytes", TASK_NAME_BYTES_MAX);
  } else if (link_bad || (link_id && (!linked || linked->task.state != TASK_RUNNING || linked == me))) {
    r = cap_throw(ctx, CAP_TASK, "NotFound", "link: no running task %u to link to", link_id);
  } else if (!JS_IsUndefined(args_v) && !args) {
    r = JS_IsException(args_text) ? JS_EXCEPTION : cap_throw(ctx, CAP_TASK, "Invalid", "args must be JSON-serialisable");
  } else {
    char err[160];
    TaskSlot *child = fw_spawn(spec, label, me->task.id, args, err, sizeof err);
    int ep = child ? channel_link(me, child, 0) : -1;
    int link_ep = (child && ep >= 0 && linked) ? channel_link(linked, child, 1) : -1;
    if (!child) {
      r = cap_throw(ctx, CAP_TASK, strstr(err, "table full") ? "Busy" : "Io", "spawn %s: %s", name, err);
    } else if (ep < 0 || (linked && link_ep < 0)) {
      fw_kill(child, TASK_FAULT_KILLED, "no free channel endpoint");
      r = cap_throw(ctx, CAP_TASK, "Busy", "%s has no free channel endpoint (%u)", ep < 0 ? "the spawner" : "the linked task",
                    CHANNEL_ENDPOINTS_MAX);
    } else {
      if (linked) channel_note_link(linked, link_ep, child->task.id);
      r = JS_NewObject(ctx);
      JS_SetPropertyStr(ctx, r, "id", JS_NewUint32(ctx, child->task.id));
      JS_SetPropertyStr(ctx, r, "ep", JS_NewInt32(ctx, ep));
      if (linked) JS_SetPropertyStr(ctx, r, "linkEp", JS_NewInt32(ctx, link_ep));
    }
  }
  if (args) JS_FreeCString(ctx, args);
  if (name) JS_FreeCString(ctx, name);
  if (label) JS_FreeCString(ctx, label);
  JS_FreeValue(ctx, args_text);
  JS_FreeValue(ctx, args_v);
  JS_FreeValue(ctx, label_v);
  JS_FreeValue(ctx, name_v);
  return r;
}

static JSValue js_task_kill(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  uint32_t id;
  if (JS_ToUint32(ctx, &id, argv[0]) < 0) return JS_EXCEPTION;
  TaskSlot *me = fw_slot_of_ctx(ctx);
  TaskSlot *s = fw_slot_by_id(id);
  if (!s) return cap_throw(ctx, CAP_TASK, "NotFound", "no task %u", id);
  if (s == me) return cap_throw(ctx, CAP_TASK, "Invalid", "a task cannot kill itself");
  fw_kill(s, TASK_FAULT_KILLED, "killed");
  return JS_UNDEFINED;
}

static const char *state_name(TaskState st) {
  return st == TASK_RUNNING ? "running" : st == TASK_FAULTED ? "faulted" : "exited";
}

static JSValue js_task_list(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  JSValue arr = JS_NewArray(ctx);
  uint32_t n = 0;
  unsigned top;
  TaskSlot *slots = fw_slots(&top);
  for (unsigned i = 0; i < top; i++) {
    TaskSlot *s = &slots[i];
    if (!s->used) continue;
    ArenaStats st = task_arena_stats(&s->task);
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "id", JS_NewUint32(ctx, s->task.id));
    JS_SetPropertyStr(ctx, o, "label", JS_NewString(ctx, s->label));
    JS_SetPropertyStr(ctx, o, "task", JS_NewString(ctx, s->spec->name));
    JS_SetPropertyStr(ctx, o, "state", JS_NewString(ctx, state_name(s->task.state)));
    JS_SetPropertyStr(ctx, o, "fault",
                      s->task.fault == TASK_FAULT_NONE ? JS_NULL : JS_NewString(ctx, task_fault_name(s->task.fault)));
    JS_SetPropertyStr(ctx, o, "detail", JS_NewString(ctx, s->task.detail));
    JS_SetPropertyStr(ctx, o, "arenaBytes", JS_NewInt64(ctx, (int64_t)s->task.mem_bytes));
    JS_SetPropertyStr(ctx, o, "arenaUsedBytes", JS_NewInt64(ctx, (int64_t)st.bytes_used));
    JS_SetPropertyStr(ctx, o, "arenaPeakBytes", JS_NewInt64(ctx, (int64_t)st.bytes_peak));
    JS_SetPropertyStr(ctx, o, "cpuMs", JS_NewFloat64(ctx, (double)s->task.cpu_us / 1000.0));
    JS_SetPropertyUint32(ctx, arr, n++, o);
  }
  return arr;
}

static JSValue js_task_on_fault(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, argv[0])) return cap_throw(ctx, CAP_TASK, "Invalid", "task.onFault needs a function");
  TaskCapTask *s = task_cap_of(fw_slot_of_ctx(ctx));
  JS_FreeValue(ctx, s->on_fault);
  s->on_fault = JS_DupValue(ctx, argv[0]);
  return JS_UNDEFINED;
}

static const char *reload_code(int rc) {
  switch (rc) {
    case RELOAD_E_STATE:
      return "NotFound";
    case RELOAD_E_BUSY:
      return "Busy";
    case RELOAD_E_SNAPSHOT:
    case RELOAD_E_START:
      return "Io";
    default:
      return "Invalid";
  }
}

static JSValue js_task_reload(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  uint32_t id;
  if (JS_ToUint32(ctx, &id, argv[0]) < 0) return JS_EXCEPTION;
  size_t len;
  const uint8_t *qbc = JS_GetUint8Array(ctx, &len, argv[1]);
  if (!qbc) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    return cap_throw(ctx, CAP_TASK, "Invalid", "reload takes (task id, Uint8Array of a .qbc file)");
  }
  TaskSlot *me = fw_slot_of_ctx(ctx);
  TaskSlot *s = fw_slot_by_id(id);
  if (!s) return cap_throw(ctx, CAP_TASK, "NotFound", "no task %u", id);
  if (s == me) return cap_throw(ctx, CAP_TASK, "Invalid", "a task cannot reload itself");
  ReloadReport rep;
  char err[TASK_DETAIL_BYTES_MAX + 64];
  uint64_t t0 = hal_clock_us();
  int rc = fw_reload(s, qbc, len, &rep, err, sizeof err);
  /* The other runtime's time was not this task's CPU. */
  task_slice_extend(&me->task, hal_clock_us() - t0);
  if (rc < 0) return cap_throw(ctx, CAP_TASK, reload_code(rc), "reload of task %u: %s", id, err);
  JSValue r = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, r, "id", JS_NewUint32(ctx, id));
  JS_SetPropertyStr(ctx, r, "restored", JS_NewBool(ctx, rep.restored));
  JS_SetPropertyStr(ctx, r, "stateDropped", JS_NewBool(ctx, rep.state_dropped));
  JS_SetPropertyStr(ctx, r, "snapshotBytes", JS_NewInt64(ctx, (int64_t)rep.snapshot_bytes));
  JS_SetPropertyStr(ctx, r, "ms", JS_NewFloat64(ctx, (double)rep.elapsed_us / 1000.0));
  return r;
}

static JSValue js_task_set_bundle(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_TASK) < 0) return JS_EXCEPTION;
  const char *name = JS_IsString(argv[0]) ? JS_ToCString(ctx, argv[0]) : NULL;
  size_t len;
  const uint8_t *qbc = JS_GetUint8Array(ctx, &len, argv[1]);
  if (!qbc) JS_FreeValue(ctx, JS_GetException(ctx));
  const ManifestTask *spec = name ? manifest_task(fw_manifest(), name) : NULL;
  JSValue r = JS_UNDEFINED;
  char err[TASK_DETAIL_BYTES_MAX + 64];
  int rc;
  if (!name || !qbc) {
    r = cap_throw(ctx, CAP_TASK, "Invalid", "setBundle takes (manifest task name, Uint8Array of a .qbc file)");
  } else if (!spec) {
    r = cap_throw(ctx, CAP_TASK, "NotFound", "no task '%s' in the manifest", name);
  } else if ((rc = fw_set_bundle(spec, qbc, len, err, sizeof err)) < 0) {
    r = cap_throw(ctx, CAP_TASK, reload_code(rc), "bundle of %s: %s", name, err);
  }
  if (name) JS_FreeCString(ctx, name);
  return r;
}

static const JSCFunctionListEntry task_funcs[] = {
    JS_CFUNC_DEF("reload", 2, js_task_reload),
    JS_CFUNC_DEF("setBundle", 2, js_task_set_bundle),
    JS_CFUNC_DEF("spawn", 1, js_task_spawn),
    JS_CFUNC_DEF("kill", 1, js_task_kill),
    JS_CFUNC_DEF("list", 0, js_task_list),
    JS_CFUNC_DEF("onFault", 1, js_task_on_fault),
};

static JSValue task_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, task_funcs, sizeof task_funcs / sizeof task_funcs[0]);
  return o;
}

static void task_init_task(TaskSlot *s) { task_cap_of(s)->on_fault = JS_UNDEFINED; }

/* Tells the spawner that s faulted through its task.onFault; it decides (kill, restart, revoke). */
static int task_faulted(TaskSlot *s) {
  TaskSlot *to = fw_slot_by_id(s->parent_id);
  if (!to || to->task.state != TASK_RUNNING || JS_IsUndefined(task_cap_of(to)->on_fault)) return -1;
  JSContext *ctx = to->task.ctx;
  JSValue argv[3] = {JS_NewUint32(ctx, s->task.id), JS_NewString(ctx, task_fault_name(s->task.fault)),
                     JS_NewString(ctx, s->task.detail)};
  JSValue fn = JS_DupValue(ctx, task_cap_of(to)->on_fault);
  fw_call(to, fn, 3, argv);
  if (to->task.state == TASK_RUNNING) {
    JS_FreeValue(ctx, fn);
    for (int i = 0; i < 3; i++) JS_FreeValue(ctx, argv[i]);
  }
  return 0;
}

const CapRegistration cap_task_registration = {
    .name = "task",
    .build = task_build,
    .task_state_bytes = sizeof(TaskCapTask),
    .init_task = task_init_task,
    .task_faulted = task_faulted,
};
