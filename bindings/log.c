/* The `log` capability: one line to the firmware log, prefixed with the task's label. */
#include <string.h>

#include "task_table.h"

static JSValue js_log_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_LOG) < 0) return JS_EXCEPTION;
  size_t len;
  const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
  if (!s) return JS_EXCEPTION;
  TaskSlot *t = fw_slot_of_ctx(ctx);
  /* One record per call: a newline inside would forge a second log line, so it is cut there. */
  size_t cut = strcspn(s, "\r\n");
  fw_log(t->label, "%.*s", (int)cut, s);
  fw_note_task_log(t, s, cut);
  JS_FreeCString(ctx, s);
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry log_funcs[] = {JS_CFUNC_DEF("write", 1, js_log_write)};

static JSValue log_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, log_funcs, 1);
  return o;
}

const CapRegistration cap_log_registration = {.name = "log", .build = log_build};
