/* The `log` capability: one line to the firmware log, prefixed with the task's label. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "firmware.h"
#include "hal.h"
#include "online.h"

void fw_log(const char *who, const char *fmt, ...) {
  char line[LOG_LINE_BYTES_MAX + 1];
  int n = snprintf(line, sizeof line, "[%s] ", who);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  hal_log_write(line, strlen(line));
}

static JSValue js_log_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_LOG) < 0) return JS_EXCEPTION;
  size_t len;
  const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
  if (!s) return JS_EXCEPTION;
  TaskSlot *t = fw_slot_of_ctx(ctx);
  /* One record per call: a newline inside would forge a second log line, so it is cut there. */
  size_t cut = strcspn(s, "\r\n");
  fw_log(t->label, "%.*s", (int)cut, s);
  /* Only root-task's own slot counts: a worker labelled "root-task" cannot declare the image online. */
  int is_root = g_fw.manifest && t->spec == manifest_task(g_fw.manifest, g_fw.manifest->root_task) && t->parent_id == 0;
  if (is_root) {
    char line[LOG_LINE_BYTES_MAX + 1];
    size_t n = cut < LOG_LINE_BYTES_MAX ? cut : LOG_LINE_BYTES_MAX;
    memcpy(line, s, n);
    line[n] = 0;
    online_observe_log(1, line);
  }
  JS_FreeCString(ctx, s);
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry log_funcs[] = {JS_CFUNC_DEF("write", 1, js_log_write)};

JSValue cap_log_object(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, log_funcs, 1);
  return o;
}
