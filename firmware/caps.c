/* The grant table: the registration list, which capability a task may reach, the errors every capability throws, and the caps object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "firmware.h"

/* The registration list from bindings/registry.h: each capability's entry, in CapId order. */
#define COHESIX_CAP_EXTERN(ID, name) extern const CapRegistration cap_##name##_registration;
COHESIX_CAPABILITIES(COHESIX_CAP_EXTERN)
#undef COHESIX_CAP_EXTERN
#define COHESIX_CAP_ENTRY(ID, name) [CAP_##ID] = &cap_##name##_registration,
const CapRegistration *const CAP_REGISTRY[CAP_COUNT] = {COHESIX_CAPABILITIES(COHESIX_CAP_ENTRY)};
#undef COHESIX_CAP_ENTRY

const char *cap_name(CapId cap) { return cap < CAP_COUNT ? CAP_REGISTRY[cap]->name : "?"; }

int fw_caps_check(char *err, size_t err_len) {
  size_t total = 0;
  for (unsigned c = 0; c < CAP_COUNT; c++)
    total += (CAP_REGISTRY[c]->task_state_bytes + TASK_CAP_STATE_ALIGN_BYTES - 1u) & ~(size_t)(TASK_CAP_STATE_ALIGN_BYTES - 1u);
  if (total <= TASK_CAP_STATE_BYTES_MAX) return 0;
  snprintf(err, err_len, "capabilities keep %zu bytes of state per task, over TASK_CAP_STATE_BYTES_MAX (%u)", total,
           TASK_CAP_STATE_BYTES_MAX);
  return -1;
}

int cap_parse(const char *name, CapId *out) {
  for (unsigned i = 0; i < CAP_COUNT; i++)
    if (!strcmp(name, CAP_REGISTRY[i]->name)) {
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
  for (unsigned c = 0; c < CAP_COUNT; c++)
    JS_SetPropertyStr(ctx, caps, CAP_REGISTRY[c]->name, CAP_REGISTRY[c]->build(ctx));
  return caps;
}
