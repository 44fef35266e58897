/* The `channel` capability: bounded, copying message queues between tasks. */
#include <stdlib.h>
#include <string.h>

#include "engine_hal.h"
#include "firmware.h"
#include "pump.h"

/* Messages delivered to one task per pump turn; the rest wait (bounded by its inbox). */
#define CHANNEL_DELIVERIES_PER_TURN 16u

int channel_link(TaskSlot *a, TaskSlot *b, int b_ep) {
  /* Endpoint 0 of every task is reserved for the link to its spawner. */
  for (unsigned i = 1; i < CHANNEL_ENDPOINTS_MAX; i++) {
    if (a->endpoints[i].peer_id) continue;
    if (b->endpoints[b_ep].peer_id) return -1;
    a->endpoints[i].peer_id = b->task.id;
    a->endpoints[i].peer_ep = (uint16_t)b_ep;
    b->endpoints[b_ep].peer_id = a->task.id;
    b->endpoints[b_ep].peer_ep = (uint16_t)i;
    return (int)i;
  }
  return -1;
}

static JSValue js_channel_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CHANNEL) < 0) return JS_EXCEPTION;
  TaskSlot *s = fw_slot_of_ctx(ctx);
  uint32_t ep;
  if (JS_ToUint32(ctx, &ep, argv[0]) < 0) return JS_EXCEPTION;
  if (ep >= CHANNEL_ENDPOINTS_MAX || !s->endpoints[ep].peer_id)
    return cap_throw(ctx, CAP_CHANNEL, "NotFound", "no channel endpoint %u", ep);
  TaskSlot *peer = fw_slot_by_id(s->endpoints[ep].peer_id);
  if (!peer || peer->task.state != TASK_RUNNING) return cap_throw(ctx, CAP_CHANNEL, "Closed", "endpoint %u: the peer task is gone", ep);
  const uint8_t *data;
  size_t len;
  const char *str = NULL;
  int is_string = JS_IsString(argv[1]);
  if (is_string) {
    str = JS_ToCStringLen(ctx, &len, argv[1]);
    if (!str) return JS_EXCEPTION;
    data = (const uint8_t *)str;
  } else {
    data = JS_GetUint8Array(ctx, &len, argv[1]);
    if (!data) {
      JS_FreeValue(ctx, JS_GetException(ctx));
      return cap_throw(ctx, CAP_CHANNEL, "Invalid", "a channel message is a string or a Uint8Array");
    }
  }
  JSValue r = JS_UNDEFINED;
  ChannelMessage *m = NULL;
  if (len > CHANNEL_MESSAGE_BYTES_MAX)
    r = cap_throw(ctx, CAP_CHANNEL, "TooBig", "message of %zu bytes is over %u", len, CHANNEL_MESSAGE_BYTES_MAX);
  else if (peer->inbox_count >= CHANNEL_QUEUE_DEPTH_MAX || peer->inbox_bytes + len > CHANNEL_INBOX_BYTES_MAX)
    r = cap_throw(ctx, CAP_CHANNEL, "Busy", "peer inbox full (%u messages, %zu bytes)", peer->inbox_count, peer->inbox_bytes);
  else if (!(m = malloc(sizeof *m + len)))
    r = cap_throw(ctx, CAP_CHANNEL, "Busy", "firmware out of message memory");
  else {
    m->next = NULL;
    m->ep = s->endpoints[ep].peer_ep;
    m->is_string = (uint8_t)is_string;
    m->len = len;
    memcpy(m->bytes, data, len);
    if (peer->inbox_tail) peer->inbox_tail->next = m;
    else peer->inbox_head = m;
    peer->inbox_tail = m;
    peer->inbox_count++;
    peer->inbox_bytes += len;
  }
  if (str) JS_FreeCString(ctx, str);
  return r;
}

static JSValue js_channel_on_message(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CHANNEL) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, argv[0])) return cap_throw(ctx, CAP_CHANNEL, "Invalid", "channel.onMessage needs a function");
  TaskSlot *s = fw_slot_of_ctx(ctx);
  JS_FreeValue(ctx, s->on_message);
  s->on_message = JS_DupValue(ctx, argv[0]);
  return JS_UNDEFINED;
}

static JSValue js_channel_on_link(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CHANNEL) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, argv[0])) return cap_throw(ctx, CAP_CHANNEL, "Invalid", "channel.onLink needs a function");
  TaskSlot *s = fw_slot_of_ctx(ctx);
  JS_FreeValue(ctx, s->on_link);
  s->on_link = JS_DupValue(ctx, argv[0]);
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry channel_funcs[] = {
    JS_CFUNC_DEF("send", 2, js_channel_send),
    JS_CFUNC_DEF("onMessage", 1, js_channel_on_message),
    JS_CFUNC_DEF("onLink", 1, js_channel_on_link),
};

JSValue cap_channel_object(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, channel_funcs, sizeof channel_funcs / sizeof channel_funcs[0]);
  return o;
}

void channel_note_link(TaskSlot *to, int ep, uint32_t peer_id) {
  /* Bounded by the endpoint table: a task cannot gain more links than it has endpoints. */
  if (to->link_count >= CHANNEL_ENDPOINTS_MAX) return;
  to->links[to->link_count].ep = (uint16_t)ep;
  to->links[to->link_count].peer_id = peer_id;
  to->link_count++;
}

/* Tells a task of its new links before any message on them; returns 0 if it is still running. */
static int deliver_links(TaskSlot *s) {
  /* A task that never asked to hear of links does not care: messages must not wait on them. */
  if (JS_IsUndefined(s->on_link)) s->link_count = 0;
  while (s->link_count) {
    LinkEvent ev = s->links[0];
    memmove(s->links, s->links + 1, (s->link_count - 1) * sizeof s->links[0]);
    s->link_count--;
    TaskSlot *peer = fw_slot_by_id(ev.peer_id);
    JSContext *c = s->task.ctx;
    JSValue argv[3] = {JS_NewUint32(c, ev.ep), JS_NewUint32(c, ev.peer_id), JS_NewString(c, peer ? peer->label : "?")};
    JSValue fn = JS_DupValue(c, s->on_link);
    fw_call(s, fn, 3, argv);
    if (s->task.state != TASK_RUNNING) return -1;
    JS_FreeValue(c, fn);
    JS_FreeValue(c, argv[2]);
  }
  return 0;
}

static ChannelMessage *inbox_pop(TaskSlot *s) {
  ChannelMessage *m = s->inbox_head;
  if (!m) return NULL;
  s->inbox_head = m->next;
  if (!s->inbox_head) s->inbox_tail = NULL;
  s->inbox_count--;
  s->inbox_bytes -= m->len;
  return m;
}

void channel_release_task(TaskSlot *s) {
  ChannelMessage *m;
  s->link_count = 0;
  while ((m = inbox_pop(s)) != NULL) free(m);
  for (unsigned i = 0; i < CHANNEL_ENDPOINTS_MAX; i++) {
    Endpoint *e = &s->endpoints[i];
    if (!e->peer_id) continue;
    TaskSlot *peer = fw_slot_by_id(e->peer_id);
    if (peer && peer->endpoints[e->peer_ep].peer_id == s->task.id) peer->endpoints[e->peer_ep].peer_id = 0;
    e->peer_id = 0;
  }
}

static void channel_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  (void)now_us;
  for (unsigned k = 0; k < g_fw.slots_top; k++) {
    TaskSlot *s = &g_fw.slots[k];
    if (s->used && s->started && s->task.state == TASK_RUNNING && s->link_count && deliver_links(s) < 0) continue;
    for (unsigned n = 0; n < CHANNEL_DELIVERIES_PER_TURN; n++) {
      /* Messages wait behind untold links, so a peer's first frame never beats its link event. */
      if (!s->used || !s->started || s->task.state != TASK_RUNNING || JS_IsUndefined(s->on_message) || !s->inbox_head ||
          s->link_count)
        break;
      ChannelMessage *m = inbox_pop(s);
      JSContext *c = s->task.ctx;
      JSValue argv[2];
      argv[0] = JS_NewUint32(c, m->ep);
      argv[1] = m->is_string ? JS_NewStringLen(c, (const char *)m->bytes, m->len) : JS_NewUint8ArrayCopy(c, m->bytes, m->len);
      free(m);
      if (JS_IsException(argv[1])) {
        JS_FreeValue(c, JS_GetException(c));
        continue; /* the receiver could not take it: dropped, the receiver's own quota problem */
      }
      JSValue fn = JS_DupValue(c, s->on_message);
      fw_call(s, fn, 2, argv);
      if (s->task.state != TASK_RUNNING) break;
      JS_FreeValue(c, fn);
      JS_FreeValue(c, argv[1]);
    }
  }
}

static uint64_t channel_deadline(void *ctx) {
  (void)ctx;
  for (unsigned k = 0; k < g_fw.slots_top; k++) {
    TaskSlot *s = &g_fw.slots[k];
    if (!s->used || !s->started || s->task.state != TASK_RUNNING) continue;
    if ((s->inbox_head && !JS_IsUndefined(s->on_message)) || s->link_count) return 0;
  }
  return HAL_DEADLINE_NONE;
}

void channel_register_source(void) {
  PumpSource src = {"channels", channel_poll, channel_deadline, NULL};
  pump_add_source(&src);
}
