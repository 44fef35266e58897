/* The `channel` capability: bounded, copying message queues between tasks. */
#include <stdlib.h>
#include <string.h>

#include "channel.h"

#include "engine_hal.h"
#include "pump.h"

/* Messages delivered to one task per pump turn; the rest wait (bounded by its inbox). */
#define CHANNEL_DELIVERIES_PER_TURN 16u

typedef struct ChannelMessage {
  struct ChannelMessage *next;
  uint16_t ep;       /* receiver-side endpoint */
  uint8_t is_string; /* delivered as a string rather than a Uint8Array */
  size_t len;
  uint8_t bytes[];
} ChannelMessage;

/* One end of a channel: which task and which of its endpoints the other end is. */
typedef struct Endpoint {
  uint32_t peer_id; /* 0 = unused or closed */
  uint16_t peer_ep;
} Endpoint;

/* A link another task made to this one, not yet told to JS (channel.onLink). */
typedef struct LinkEvent {
  uint16_t ep;
  uint32_t peer_id;
} LinkEvent;

/* What the channel capability keeps per task (in its slot). The handlers belong to one runtime;
   the endpoints, untold links and inbox belong to the task and cross a hot reload. */
typedef struct ChannelTask {
  JSValue on_message; /* channel.onMessage */
  JSValue on_link;    /* channel.onLink */
  LinkEvent links[CHANNEL_ENDPOINTS_MAX];
  unsigned link_count;
  Endpoint endpoints[CHANNEL_ENDPOINTS_MAX];
  ChannelMessage *inbox_head, *inbox_tail;
  unsigned inbox_count;
  size_t inbox_bytes;
} ChannelTask;

static ChannelTask *chan_of(TaskSlot *s) { return fw_cap_state(s, CAP_CHANNEL); }

int channel_link(TaskSlot *a_slot, TaskSlot *b_slot, int b_ep) {
  ChannelTask *a = chan_of(a_slot), *b = chan_of(b_slot);
  /* Endpoint 0 of every task is reserved for the link to its spawner. */
  for (unsigned i = 1; i < CHANNEL_ENDPOINTS_MAX; i++) {
    if (a->endpoints[i].peer_id) continue;
    if (b->endpoints[b_ep].peer_id) return -1;
    a->endpoints[i].peer_id = b_slot->task.id;
    a->endpoints[i].peer_ep = (uint16_t)b_ep;
    b->endpoints[b_ep].peer_id = a_slot->task.id;
    b->endpoints[b_ep].peer_ep = (uint16_t)i;
    return (int)i;
  }
  return -1;
}

static JSValue js_channel_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CHANNEL) < 0) return JS_EXCEPTION;
  ChannelTask *s = chan_of(fw_slot_of_ctx(ctx));
  uint32_t ep;
  if (JS_ToUint32(ctx, &ep, argv[0]) < 0) return JS_EXCEPTION;
  if (ep >= CHANNEL_ENDPOINTS_MAX || !s->endpoints[ep].peer_id)
    return cap_throw(ctx, CAP_CHANNEL, "NotFound", "no channel endpoint %u", ep);
  TaskSlot *peer_slot = fw_slot_by_id(s->endpoints[ep].peer_id);
  if (!peer_slot || peer_slot->task.state != TASK_RUNNING) return cap_throw(ctx, CAP_CHANNEL, "Closed", "endpoint %u: the peer task is gone", ep);
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
  ChannelTask *peer = chan_of(peer_slot);
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
  ChannelTask *s = chan_of(fw_slot_of_ctx(ctx));
  JS_FreeValue(ctx, s->on_message);
  s->on_message = JS_DupValue(ctx, argv[0]);
  return JS_UNDEFINED;
}

static JSValue js_channel_on_link(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_CHANNEL) < 0) return JS_EXCEPTION;
  if (!JS_IsFunction(ctx, argv[0])) return cap_throw(ctx, CAP_CHANNEL, "Invalid", "channel.onLink needs a function");
  ChannelTask *s = chan_of(fw_slot_of_ctx(ctx));
  JS_FreeValue(ctx, s->on_link);
  s->on_link = JS_DupValue(ctx, argv[0]);
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry channel_funcs[] = {
    JS_CFUNC_DEF("send", 2, js_channel_send),
    JS_CFUNC_DEF("onMessage", 1, js_channel_on_message),
    JS_CFUNC_DEF("onLink", 1, js_channel_on_link),
};

static JSValue channel_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, channel_funcs, sizeof channel_funcs / sizeof channel_funcs[0]);
  return o;
}

void channel_note_link(TaskSlot *to_slot, int ep, uint32_t peer_id) {
  ChannelTask *to = chan_of(to_slot);
  /* Bounded by the endpoint table: a task cannot gain more links than it has endpoints. */
  if (to->link_count >= CHANNEL_ENDPOINTS_MAX) return;
  to->links[to->link_count].ep = (uint16_t)ep;
  to->links[to->link_count].peer_id = peer_id;
  to->link_count++;
}

/* Tells a task of its new links before any message on them; returns 0 if it is still running. */
static int deliver_links(TaskSlot *slot) {
  ChannelTask *s = chan_of(slot);
  /* A task that never asked to hear of links does not care: messages must not wait on them. */
  if (JS_IsUndefined(s->on_link)) s->link_count = 0;
  while (s->link_count) {
    LinkEvent ev = s->links[0];
    memmove(s->links, s->links + 1, (s->link_count - 1) * sizeof s->links[0]);
    s->link_count--;
    TaskSlot *peer = fw_slot_by_id(ev.peer_id);
    JSContext *c = slot->task.ctx;
    JSValue argv[3] = {JS_NewUint32(c, ev.ep), JS_NewUint32(c, ev.peer_id), JS_NewString(c, peer ? peer->label : "?")};
    JSValue fn = JS_DupValue(c, s->on_link);
    fw_call(slot, fn, 3, argv);
    if (slot->task.state != TASK_RUNNING) return -1;
    JS_FreeValue(c, fn);
    JS_FreeValue(c, argv[2]);
  }
  return 0;
}

static ChannelMessage *inbox_pop(ChannelTask *s) {
  ChannelMessage *m = s->inbox_head;
  if (!m) return NULL;
  s->inbox_head = m->next;
  if (!s->inbox_head) s->inbox_tail = NULL;
  s->inbox_count--;
  s->inbox_bytes -= m->len;
  return m;
}

static void channel_release_task(TaskSlot *slot) {
  ChannelTask *s = chan_of(slot);
  ChannelMessage *m;
  s->link_count = 0;
  while ((m = inbox_pop(s)) != NULL) free(m);
  for (unsigned i = 0; i < CHANNEL_ENDPOINTS_MAX; i++) {
    Endpoint *e = &s->endpoints[i];
    if (!e->peer_id) continue;
    TaskSlot *peer_slot = fw_slot_by_id(e->peer_id);
    ChannelTask *peer = peer_slot ? chan_of(peer_slot) : NULL;
    if (peer && peer->endpoints[e->peer_ep].peer_id == slot->task.id) peer->endpoints[e->peer_ep].peer_id = 0;
    e->peer_id = 0;
  }
}

static void channel_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  (void)now_us;
  unsigned top;
  TaskSlot *slots = fw_slots(&top);
  for (unsigned k = 0; k < top; k++) {
    TaskSlot *slot = &slots[k];
    if (!slot->used) continue; /* a free slot's state is zeroed: nothing waits in it */
    ChannelTask *s = chan_of(slot);
    if (slot->started && slot->task.state == TASK_RUNNING && s->link_count && deliver_links(slot) < 0) continue;
    for (unsigned n = 0; n < CHANNEL_DELIVERIES_PER_TURN; n++) {
      /* Messages wait behind untold links, so a peer's first frame never beats its link event. */
      if (!slot->used || !slot->started || slot->task.state != TASK_RUNNING || JS_IsUndefined(s->on_message) ||
          !s->inbox_head || s->link_count)
        break;
      ChannelMessage *m = inbox_pop(s);
      JSContext *c = slot->task.ctx;
      JSValue argv[2];
      argv[0] = JS_NewUint32(c, m->ep);
      argv[1] = m->is_string ? JS_NewStringLen(c, (const char *)m->bytes, m->len) : JS_NewUint8ArrayCopy(c, m->bytes, m->len);
      free(m);
      if (JS_IsException(argv[1])) {
        JS_FreeValue(c, JS_GetException(c));
        continue; /* the receiver could not take it: dropped, the receiver's own quota problem */
      }
      JSValue fn = JS_DupValue(c, s->on_message);
      fw_call(slot, fn, 2, argv);
      if (slot->task.state != TASK_RUNNING) break;
      JS_FreeValue(c, fn);
      JS_FreeValue(c, argv[1]);
    }
  }
}

static uint64_t channel_deadline(void *ctx) {
  (void)ctx;
  unsigned top;
  TaskSlot *slots = fw_slots(&top);
  for (unsigned k = 0; k < top; k++) {
    TaskSlot *slot = &slots[k];
    if (!slot->used || !slot->started || slot->task.state != TASK_RUNNING) continue;
    const ChannelTask *s = chan_of(slot);
    if ((s->inbox_head && !JS_IsUndefined(s->on_message)) || s->link_count) return 0;
  }
  return HAL_DEADLINE_NONE;
}

static void channel_register_source(void) {
  PumpSource src = {"channels", channel_poll, channel_deadline, NULL};
  pump_add_source(&src);
}

static void channel_init_task(TaskSlot *slot) {
  ChannelTask *s = chan_of(slot);
  s->on_message = JS_UNDEFINED;
  s->on_link = JS_UNDEFINED;
}

/* Moves what outlives a task's code (endpoints, untold links, inbox) from one slot to the other. */
static void move_task_state(ChannelTask *to, ChannelTask *from) {
  memcpy(to->endpoints, from->endpoints, sizeof to->endpoints);
  memset(from->endpoints, 0, sizeof from->endpoints);
  memcpy(to->links, from->links, sizeof to->links);
  to->link_count = from->link_count;
  from->link_count = 0;
  to->inbox_head = from->inbox_head;
  to->inbox_tail = from->inbox_tail;
  to->inbox_count = from->inbox_count;
  to->inbox_bytes = from->inbox_bytes;
  from->inbox_head = from->inbox_tail = NULL;
  from->inbox_count = 0;
  from->inbox_bytes = 0;
}

static void channel_reload_begin(TaskSlot *old, TaskSlot *next) { move_task_state(chan_of(next), chan_of(old)); }

static void channel_reload_end(TaskSlot *old, TaskSlot *next, int committed) {
  /* Rolled back: the old code, which never stopped, takes them back. */
  if (!committed) move_task_state(chan_of(old), chan_of(next));
}

const CapRegistration cap_channel_registration = {
    .name = "channel",
    .build = channel_build,
    .register_source = channel_register_source,
    .task_state_bytes = sizeof(ChannelTask),
    .init_task = channel_init_task,
    .release_task = channel_release_task,
    .reload_begin = channel_reload_begin,
    .reload_end = channel_reload_end,
};
