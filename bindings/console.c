/* The `console` capability: the UART, raw bytes in to one owning task, text out. */
#include <string.h>

#include "engine_hal.h"
#include "firmware.h"
#include "hal.h"
#include "pump.h"

/* Bytes read from the UART per pump turn; more wait for the next turn. */
#define UART_READ_BYTES_PER_TURN 256u

static JSValue js_console_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CONSOLE) < 0) return JS_EXCEPTION;
  size_t len;
  const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
  if (!s) return JS_EXCEPTION;
  JSValue r = JS_UNDEFINED;
  if (len > CONSOLE_WRITE_BYTES_MAX)
    r = cap_throw(ctx, CAP_CONSOLE, "TooBig", "console.write of %zu bytes is over %u", len, CONSOLE_WRITE_BYTES_MAX);
  else
    hal_uart_write((const uint8_t *)s, len);
  JS_FreeCString(ctx, s);
  return r;
}

static JSValue js_console_on_input(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CONSOLE) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, argv[0])) return cap_throw(ctx, CAP_CONSOLE, "Invalid", "console.onInput needs a function");
  TaskSlot *s = fw_slot_of_ctx(ctx);
  JS_FreeValue(ctx, s->on_input);
  s->on_input = JS_DupValue(ctx, argv[0]);
  /* The latest task to ask owns the UART: a restarted root-task takes it back. */
  g_fw.uart_owner = s->task.id;
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_funcs[] = {
    JS_CFUNC_DEF("write", 1, js_console_write),
    JS_CFUNC_DEF("onInput", 1, js_console_on_input),
};

JSValue cap_console_object(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, console_funcs, 2);
  return o;
}

static void console_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  (void)now_us;
  TaskSlot *s = fw_slot_by_id(g_fw.uart_owner);
  if (!s || !s->started || s->task.state != TASK_RUNNING || JS_IsUndefined(s->on_input)) return;
  uint8_t buf[UART_READ_BYTES_PER_TURN];
  size_t n = hal_uart_read(buf, sizeof buf);
  if (!n) return;
  JSValue bytes = JS_NewUint8ArrayCopy(s->task.ctx, buf, n);
  if (JS_IsException(bytes)) {
    JS_FreeValue(s->task.ctx, JS_GetException(s->task.ctx));
    return;
  }
  JSValue fn = JS_DupValue(s->task.ctx, s->on_input);
  fw_call(s, fn, 1, &bytes);
  if (s->task.state == TASK_RUNNING) {
    JS_FreeValue(s->task.ctx, fn);
    JS_FreeValue(s->task.ctx, bytes);
  }
}

void console_register_source(void) {
  PumpSource src = {"uart", console_poll, NULL, NULL};
  pump_add_source(&src);
}
