/* The grant table: which capability a task may reach, the errors every capability throws, and the caps object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "firmware.h"

static const char *const CAP_NAMES[CAP_COUNT] = {"log", "console", "net", "timer", "channel", "task", "image"};

const char *cap_name(CapId cap) { return cap < CAP_COUNT ? CAP_NAMES[cap] : "?"; }

int cap_parse(const char *name, CapId *out) {
  for (unsigned i = 0; i < CAP_COUNT; i++)
    if (!strcmp(name, CAP_NAMES[i])) {
      *out = (CapId)i;
      return 0;
    }
  return -1;
}

/* Throws an Error with name, code and cap properties, as js/caps/index.ts's CapErrorShape says. */
static JSValue throw_shaped(JSContext *ctx, const char *name, CapId cap, const char *code, const char *msg) {
  JSValue e = JS_NewError(ctx);
  if (JS_IsException(e)) return JS_EXCEPTION;
  JS_DefinePropertyValueStr(ctx, e, "name", JS_NewString(ctx, name), JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
  JS_DefinePropertyValueStr(ctx, e, "message", JS_NewString(ctx, msg), JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
  JS_DefinePropertyValueStr(ctx, e, "code", JS_NewString(ctx, code), JS_PROP_C_W_E);
  JS_DefinePropertyValueStr(ctx, e, "cap", JS_NewString(ctx, cap_name(cap)), JS_PROP_C_W_E);
  return JS_Throw(ctx, e);
}

JSValue cap_throw(JSContext *ctx, CapId cap, const char *code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return throw_shaped(ctx, "CapError", cap, code, msg);
}

int cap_require(JSContext *ctx, CapId cap) {
  TaskSlot *s = fw_slot_of_ctx(ctx);
  if (s && (s->grants & (1u << cap))) return 0;
  char msg[160];
  snprintf(msg, sizeof msg, "capability '%s' is not granted to task '%s'", cap_name(cap), s ? s->label : "?");
  throw_shaped(ctx, "CapabilityError", cap, "ECAP", msg);
  return -1;
}

JSValue caps_new(JSContext *ctx) {
  /* Every capability object is present; ungranted ones throw on use (never a silent no-op). */
  JSValue caps = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, caps, "log", cap_log_object(ctx));
  JS_SetPropertyStr(ctx, caps, "console", cap_console_object(ctx));
  JS_SetPropertyStr(ctx, caps, "net", cap_net_object(ctx));
  JS_SetPropertyStr(ctx, caps, "timer", cap_timer_object(ctx));
  JS_SetPropertyStr(ctx, caps, "channel", cap_channel_object(ctx));
  JS_SetPropertyStr(ctx, caps, "task", cap_task_object(ctx));
  JS_SetPropertyStr(ctx, caps, "image", cap_image_object(ctx));
  return caps;
}
