/* The `console` capability: the UART, raw bytes in to one owning task, text out. */
#include <string.h>

#include "engine_hal.h"
#include "hal.h"
#include "pump.h"
#include "task_table.h"

/* Bytes read from the UART per pump turn; more wait for the next turn. */
#define UART_READ_BYTES_PER_TURN 256u

/* What the console keeps per task (in its slot). */
typedef struct ConsoleTask {
  JSValue on_input; /* console.onInput */
} ConsoleTask;

/* The task whose console.onInput gets UART bytes (0: none). */
static uint32_t g_uart_owner;

static ConsoleTask *console_of(TaskSlot *s) { return fw_cap_state(s, CAP_CONSOLE); }

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
  ConsoleTask *c = console_of(s);
  JS_FreeValue(ctx, c->on_input);
  c->on_input = JS_DupValue(ctx, argv[0]);
  /* The latest task to ask owns the UART: a restarted root-task takes it back. */
  g_uart_owner = s->task.id;
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_funcs[] = {
    JS_CFUNC_DEF("write", 1, js_console_write),
    JS_CFUNC_DEF("onInput", 1, js_console_on_input),
};

static JSValue console_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, console_funcs, 2);
  return o;
}

static void console_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  (void)now_us;
  TaskSlot *s = fw_slot_by_id(g_uart_owner);
  if (!s || !s->started || s->task.state != TASK_RUNNING || JS_IsUndefined(console_of(s)->on_input)) return;
  uint8_t buf[UART_READ_BYTES_PER_TURN];
  size_t n = hal_uart_read(buf, sizeof buf);
  if (!n) return;
  JSValue bytes = JS_NewUint8ArrayCopy(s->task.ctx, buf, n);
  if (JS_IsException(bytes)) {
    JS_FreeValue(s->task.ctx, JS_GetException(s->task.ctx));
    return;
  }
  JSValue fn = JS_DupValue(s->task.ctx, console_of(s)->on_input);
  fw_call(s, fn, 1, &bytes);
  if (s->task.state == TASK_RUNNING) {
    JS_FreeValue(s->task.ctx, fn);
    JS_FreeValue(s->task.ctx, bytes);
  }
}

static void console_register_source(void) {
  PumpSource src = {"uart", console_poll, NULL, NULL};
  pump_add_source(&src);
}

static void console_init_task(TaskSlot *s) { console_of(s)->on_input = JS_UNDEFINED; }

static void console_release_task(TaskSlot *s) {
  if (g_uart_owner == s->task.id) g_uart_owner = 0;
}

/* The UART stays with the task id across a reload only if the new code asks for input too. */
static void console_reload_end(TaskSlot *old, TaskSlot *next, int committed) {
  if (committed && g_uart_owner == next->task.id && JS_IsUndefined(console_of(next)->on_input)) g_uart_owner = 0;
}

const CapRegistration cap_console_registration = {
    .name = "console",
    .build = console_build,
    .register_source = console_register_source,
    .task_state_bytes = sizeof(ConsoleTask),
    .init_task = console_init_task,
    .release_task = console_release_task,
    .reload_end = console_reload_end,
};
