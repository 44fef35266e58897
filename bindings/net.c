/* The `net` capability: listeners and connections with bounded send buffers, owned per task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept_rate.h"
#include "engine_hal.h"
#include "hal.h"
#include "pump.h"
#include "task_table.h"

/* Connections accepted per listener per pump turn. */
#define NET_ACCEPTS_PER_TURN 8u
/* Reads of NET_READ_CHUNK_BYTES per connection per turn, so one busy peer cannot starve the rest. */
#define NET_READS_PER_TURN 4u
/* How long close() waits for queued bytes to drain before dropping them. */
#define NET_LINGER_US (2u * 1000u * 1000u)
#define NET_PEER_BYTES_MAX 64u
#define NET_HOST_BYTES_MAX 63u

typedef struct Listener {
  int used;
  int handle;
  uint32_t owner;
  JSValue on_accept, on_data, on_close;
  /* What listen() asked for, so a hot-reloaded task asking again adopts this listener. */
  char host[NET_HOST_BYTES_MAX + 1];
  uint16_t port;
  int pre_reload; /* open before the reload in progress of its owner */
  int adopted;    /* the new code asked for it again; prior[] keeps the old code's handlers */
  JSValue prior[3];
  AcceptRate rate; /* per-source accept buckets (accept_rate.h says why) */
} Listener;

/* The task whose reload is in progress (0: none); its new code's listen() may adopt. */
static uint32_t g_reloading;

typedef struct Conn {
  uint32_t generation; /* odd = in use */
  int handle;
  uint32_t owner;
  unsigned listener;
  int closing;
  int read_paused; /* the owner paused reads (net.pauseReads): no onData until it resumes */
  uint64_t linger_until_us;
  uint8_t *send_buf; /* NET_SEND_BUFFER_BYTES_MAX bytes, allocated on first queued write */
  size_t send_len;
} Conn;

static Listener g_listeners[NET_LISTENERS_MAX];
static Conn g_conns[NET_SOCKETS_MAX];
/* One past the highest connection slot ever used: the per-turn scans stop there, not at
   NET_SOCKETS_MAX (slots are taken lowest first, so this stays near the peak connection count). */
static unsigned g_conns_top;

static uint32_t conn_id(unsigned i) { return g_conns[i].generation * NET_SOCKETS_MAX + i + 1u; }

static Conn *conn_of(JSContext *ctx, JSValueConst v, unsigned *index) {
  uint32_t id;
  if (JS_ToUint32(ctx, &id, v) < 0 || id == 0) return NULL;
  unsigned i = (id - 1u) % NET_SOCKETS_MAX;
  Conn *c = &g_conns[i];
  TaskSlot *s = fw_slot_of_ctx(ctx);
  if (!(c->generation & 1u) || c->generation != (id - 1u) / NET_SOCKETS_MAX || c->owner != s->task.id) return NULL;
  if (index) *index = i;
  return c;
}

static Listener *adoptable(uint32_t task_id, const char *host, uint16_t port) {
  if (!g_reloading || g_reloading != task_id) return NULL;
  for (unsigned i = 0; i < NET_LISTENERS_MAX; i++) {
    Listener *l = &g_listeners[i];
    if (l->used && l->owner == task_id && l->pre_reload && !l->adopted && l->port == port && !strcmp(l->host, host)) return l;
  }
  return NULL;
}

static JSValue js_net_listen(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  JSValue host_v = JS_GetPropertyStr(ctx, argv[0], "host");
  JSValue port_v = JS_GetPropertyStr(ctx, argv[0], "port");
  const char *host = JS_IsString(host_v) ? JS_ToCString(ctx, host_v) : NULL;
  uint32_t port = 0;
  int port_ok = JS_IsNumber(port_v) && JS_ToUint32(ctx, &port, port_v) == 0 && port <= 65535;
  JS_FreeValue(ctx, host_v);
  JS_FreeValue(ctx, port_v);
  JSValue fns[3] = {JS_GetPropertyStr(ctx, argv[1], "onAccept"), JS_GetPropertyStr(ctx, argv[1], "onData"),
                    JS_GetPropertyStr(ctx, argv[1], "onClose")};
  JSValue r = JS_UNDEFINED;
  Listener *l = NULL;
  Listener *adopt = host && port_ok ? adoptable(fw_slot_of_ctx(ctx)->task.id, host, (uint16_t)port) : NULL;
  for (unsigned i = 0; i < NET_LISTENERS_MAX && !l && !adopt; i++)
    if (!g_listeners[i].used) l = &g_listeners[i];
  if (!host || !port_ok) {
    r = cap_throw(ctx, CAP_NET, "Invalid", "listen needs {host: string, port: 0..65535}");
  } else if (!JS_IsFunction(ctx, fns[0]) || !JS_IsFunction(ctx, fns[1]) || !JS_IsFunction(ctx, fns[2])) {
    r = cap_throw(ctx, CAP_NET, "Invalid", "listen needs handlers {onAccept, onData, onClose}");
  } else if (strlen(host) > NET_HOST_BYTES_MAX) {
    r = cap_throw(ctx, CAP_NET, "Invalid", "listen host longer than %u bytes", NET_HOST_BYTES_MAX);
  } else if (adopt) {
    /* A hot-reloaded task listening again: it takes over the old listener and its connections. */
    l = adopt;
    l->prior[0] = l->on_accept;
    l->prior[1] = l->on_data;
    l->prior[2] = l->on_close;
    l->on_accept = fns[0];
    l->on_data = fns[1];
    l->on_close = fns[2];
    l->adopted = 1;
    fns[0] = fns[1] = fns[2] = JS_UNDEFINED;
    r = JS_NewUint32(ctx, (uint32_t)(l - g_listeners) + 1u);
  } else if (!l) {
    r = cap_throw(ctx, CAP_NET, "Busy", "listener table full (%u)", NET_LISTENERS_MAX);
  } else {
    int h = hal_net_listen(host, (uint16_t)port);
    if (h < 0) {
      r = cap_throw(ctx, CAP_NET, "Io", "cannot listen on %s:%u: %s", host, port,
                    h == HAL_E_ADDRINUSE ? "address in use" : h == HAL_E_INVAL ? "invalid address" : "platform refused");
    } else {
      l->used = 1;
      l->handle = h;
      l->owner = fw_slot_of_ctx(ctx)->task.id;
      l->on_accept = fns[0];
      l->on_data = fns[1];
      l->on_close = fns[2];
      snprintf(l->host, sizeof l->host, "%s", host);
      l->port = (uint16_t)port;
      fns[0] = fns[1] = fns[2] = JS_UNDEFINED;
      r = JS_NewUint32(ctx, (uint32_t)(l - g_listeners) + 1u);
    }
  }
  for (int i = 0; i < 3; i++) JS_FreeValue(ctx, fns[i]);
  if (host) JS_FreeCString(ctx, host);
  return r;
}

/* Sends what it can now; the rest stays queued and the HAL wakes the pump when writable. */
static int conn_flush(Conn *c) {
  while (c->send_len) {
    long n = hal_net_send(c->handle, c->send_buf, c->send_len);
    if (n == HAL_E_AGAIN) break;
    if (n < 0) return -1;
    memmove(c->send_buf, c->send_buf + n, c->send_len - (size_t)n);
    c->send_len -= (size_t)n;
  }
  hal_net_want_write(c->handle, c->send_len > 0);
  return 0;
}

static JSValue js_net_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  Conn *c = conn_of(ctx, argv[0], NULL);
  if (!c || c->closing) return cap_throw(ctx, CAP_NET, "Closed", "socket is closed or not this task's");
  size_t len;
  const uint8_t *data = JS_GetUint8Array(ctx, &len, argv[1]);
  if (!data) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    return cap_throw(ctx, CAP_NET, "Invalid", "net.write takes a Uint8Array");
  }
  /* An optional length sends a prefix: a caller reusing one buffer need not cut a view per write. */
  if (argc > 2 && !JS_IsUndefined(argv[2])) {
    double want;
    if (!JS_IsNumber(argv[2]) || JS_ToFloat64(ctx, &want, argv[2]) < 0 || !(want >= 0) || want > (double)len ||
        want != (double)(size_t)want)
      return cap_throw(ctx, CAP_NET, "Invalid", "net.write length is not within the %zu-byte array", len);
    len = (size_t)want;
  }
  if (c->send_len + len > NET_SEND_BUFFER_BYTES_MAX)
    return cap_throw(ctx, CAP_NET, "Busy", "send buffer full (%zu queued, %u max)", c->send_len, NET_SEND_BUFFER_BYTES_MAX);
  if (!c->send_buf && !(c->send_buf = malloc(NET_SEND_BUFFER_BYTES_MAX)))
    return cap_throw(ctx, CAP_NET, "Busy", "firmware out of socket buffer memory");
  memcpy(c->send_buf + c->send_len, data, len);
  c->send_len += len;
  if (conn_flush(c) < 0) {
    /* The peer is gone; onClose will follow from the pump. */
    c->closing = 1;
    c->send_len = 0;
    c->linger_until_us = 0;
  }
  return JS_UNDEFINED;
}

static JSValue js_net_pending(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  Conn *c = conn_of(ctx, argv[0], NULL);
  return JS_NewUint32(ctx, c ? (uint32_t)c->send_len : 0u);
}

/* Back-pressure (issue 13 bug 3): while paused the socket is not read, so the peer's bytes wait in
   the platform's receive buffer and TCP's window slows it, instead of a task queue growing. */
static JSValue js_net_pause_reads(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  Conn *c = conn_of(ctx, argv[0], NULL);
  int paused = argc > 1 && JS_ToBool(ctx, argv[1]);
  if (c && c->read_paused != paused) {
    c->read_paused = paused;
    hal_net_want_read(c->handle, !paused);
  }
  return JS_UNDEFINED;
}

static JSValue js_net_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  Conn *c = conn_of(ctx, argv[0], NULL);
  if (c && !c->closing) {
    c->closing = 1;
    c->linger_until_us = hal_clock_us() + NET_LINGER_US;
  }
  return JS_UNDEFINED;
}

static void conn_free(Conn *c) {
  hal_net_want_write(c->handle, 0);
  hal_net_close(c->handle);
  free(c->send_buf);
  c->send_buf = NULL;
  c->send_len = 0;
  c->closing = 0;
  c->read_paused = 0;
  c->generation++; /* even: free */
}

static void listener_free(Listener *l, JSContext *ctx) {
  hal_net_close(l->handle);
  if (ctx) {
    JS_FreeValue(ctx, l->on_accept);
    JS_FreeValue(ctx, l->on_data);
    JS_FreeValue(ctx, l->on_close);
  }
  memset(l, 0, sizeof *l);
}

static JSValue js_net_close_listener(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  uint32_t id;
  if (JS_ToUint32(ctx, &id, argv[0]) < 0) return JS_EXCEPTION;
  TaskSlot *s = fw_slot_of_ctx(ctx);
  if (id < 1 || id > NET_LISTENERS_MAX || !g_listeners[id - 1].used || g_listeners[id - 1].owner != s->task.id)
    return JS_UNDEFINED;
  Listener *l = &g_listeners[id - 1];
  if (l->pre_reload) {
    /* The new code of a reload in progress (same task id): the old code's listener and its handlers
       (JS values of the old runtime) are not this runtime's to free. Closing one it adopted only
       gives the adoption back: at commit it closes as not asked for again, on rollback it stays. */
    if (l->adopted) {
      JS_FreeValue(ctx, l->on_accept);
      JS_FreeValue(ctx, l->on_data);
      JS_FreeValue(ctx, l->on_close);
      l->on_accept = l->prior[0];
      l->on_data = l->prior[1];
      l->on_close = l->prior[2];
      l->adopted = 0;
    }
    return JS_UNDEFINED;
  }
  listener_free(l, ctx);
  return JS_UNDEFINED;
}

static JSValue js_net_local_port(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_NET) < 0) return JS_EXCEPTION;
  uint32_t id;
  if (JS_ToUint32(ctx, &id, argv[0]) < 0) return JS_EXCEPTION;
  TaskSlot *s = fw_slot_of_ctx(ctx);
  if (id < 1 || id > NET_LISTENERS_MAX || !g_listeners[id - 1].used || g_listeners[id - 1].owner != s->task.id)
    return cap_throw(ctx, CAP_NET, "NotFound", "no listener %u", id);
  int port = hal_net_local_port(g_listeners[id - 1].handle);
  return port < 0 ? cap_throw(ctx, CAP_NET, "Io", "listener %u has no local port", id) : JS_NewInt32(ctx, port);
}

static const JSCFunctionListEntry net_funcs[] = {
    JS_CFUNC_DEF("localPort", 1, js_net_local_port),
    JS_CFUNC_DEF("listen", 2, js_net_listen),   JS_CFUNC_DEF("write", 3, js_net_write),
    JS_CFUNC_DEF("pending", 1, js_net_pending), JS_CFUNC_DEF("close", 1, js_net_close),
    JS_CFUNC_DEF("pauseReads", 2, js_net_pause_reads),
    JS_CFUNC_DEF("closeListener", 1, js_net_close_listener),
};

static JSValue net_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, net_funcs, sizeof net_funcs / sizeof net_funcs[0]);
  return o;
}

/* Sockets belong to the task id, not to one runtime: a kill closes them; a reload hands them over. */
static void net_release_task(TaskSlot *s) {
  uint32_t task_id = s->task.id;
  for (unsigned i = 0; i < NET_SOCKETS_MAX; i++)
    if ((g_conns[i].generation & 1u) && g_conns[i].owner == task_id) conn_free(&g_conns[i]);
  for (unsigned i = 0; i < NET_LISTENERS_MAX; i++)
    if (g_listeners[i].used && g_listeners[i].owner == task_id) listener_free(&g_listeners[i], NULL);
}

/* Hot reload: listeners of the task opened again (same host and port) by the new code adopt the
   old sockets; at the end the old ones not adopted close (commit) or the adoption is undone (rollback). */
static void net_reload_begin(TaskSlot *old, TaskSlot *next) {
  uint32_t task_id = next->task.id;
  g_reloading = task_id;
  for (unsigned i = 0; i < NET_LISTENERS_MAX; i++) {
    Listener *l = &g_listeners[i];
    if (l->used && l->owner == task_id) l->pre_reload = 1;
  }
}

/* Closes a listener and the connections it accepted; JS values are left to the arena that goes. */
static void listener_close_all(unsigned li) {
  for (unsigned i = 0; i < NET_SOCKETS_MAX; i++)
    if ((g_conns[i].generation & 1u) && g_conns[i].listener == li && g_conns[i].owner == g_listeners[li].owner)
      conn_free(&g_conns[i]);
  listener_free(&g_listeners[li], NULL);
}

static void net_reload_end(TaskSlot *old, TaskSlot *next, int committed) {
  uint32_t task_id = next->task.id;
  g_reloading = 0;
  for (unsigned i = 0; i < NET_LISTENERS_MAX; i++) {
    Listener *l = &g_listeners[i];
    if (!l->used || l->owner != task_id) continue;
    if (committed) {
      /* The old code's listeners the new code did not ask for again close with their connections. */
      if (l->pre_reload && !l->adopted) listener_close_all(i);
    } else if (l->adopted) {
      l->on_accept = l->prior[0];
      l->on_data = l->prior[1];
      l->on_close = l->prior[2];
    } else if (!l->pre_reload) {
      listener_close_all(i); /* opened by the new code that is being thrown away */
    }
    if (l->used) {
      l->pre_reload = 0;
      l->adopted = 0;
    }
  }
}

/* Calls one of a listener's handlers in its owner task; returns 0 if the owner is still running. */
static int deliver(Listener *l, JSValueConst fn_held, int argc, JSValue *argv) {
  TaskSlot *s = fw_slot_by_id(l->owner);
  if (!s || s->task.state != TASK_RUNNING) return -1;
  JSContext *ctx = s->task.ctx;
  JSValue fn = JS_DupValue(ctx, fn_held);
  fw_call(s, fn, argc, argv);
  if (s->task.state != TASK_RUNNING) return -1;
  JS_FreeValue(ctx, fn);
  for (int i = 0; i < argc; i++) JS_FreeValue(ctx, argv[i]);
  return 0;
}

static void conn_closed(unsigned i) {
  Conn *c = &g_conns[i];
  Listener *l = &g_listeners[c->listener];
  uint32_t id = conn_id(i);
  conn_free(c);
  TaskSlot *s = fw_slot_by_id(l->owner);
  if (l->used && s && s->task.state == TASK_RUNNING) {
    JSValue argv[1] = {JS_NewUint32(s->task.ctx, id)};
    deliver(l, l->on_close, 1, argv);
  }
}

static void net_poll(void *ctx, uint64_t now_us) {
  (void)ctx;
  for (unsigned li = 0; li < NET_LISTENERS_MAX; li++) {
    Listener *l = &g_listeners[li];
    if (!l->used || !(hal_net_ready(l->handle) & HAL_NET_READABLE)) continue;
    for (unsigned n = 0; n < NET_ACCEPTS_PER_TURN && l->used; n++) {
      char peer[NET_PEER_BYTES_MAX];
      int h = hal_net_accept(l->handle, peer, sizeof peer);
      if (h < 0) break;
      uint32_t refused = 0;
      AcceptVerdict v = accept_rate_check(&l->rate, peer, now_us, &refused);
      if (v != ACCEPT_ADMIT) {
        hal_net_close(h); /* one source reconnecting in a loop: closed before any JavaScript runs */
        if (v == ACCEPT_REFUSE_AND_LOG)
          fw_log("net", "refused %u connection(s) from %s: over %u a second from one source", refused, peer,
                 ACCEPTS_PER_SOURCE_PER_S);
        continue;
      }
      unsigned i = 0;
      while (i < NET_SOCKETS_MAX && (g_conns[i].generation & 1u)) i++;
      if (i == NET_SOCKETS_MAX) {
        hal_net_close(h); /* table full: the peer sees the connection close at once */
        fw_log("net", "socket table full (%u): refused a connection from %s", NET_SOCKETS_MAX, peer);
        continue;
      }
      Conn *c = &g_conns[i];
      if (i >= g_conns_top) g_conns_top = i + 1u;
      c->generation++;
      c->handle = h;
      c->owner = l->owner;
      c->listener = li;
      TaskSlot *s = fw_slot_by_id(l->owner);
      if (!s || s->task.state != TASK_RUNNING) {
        conn_free(c);
        continue;
      }
      JSValue argv[2] = {JS_NewUint32(s->task.ctx, conn_id(i)), JS_NewString(s->task.ctx, peer)};
      deliver(l, l->on_accept, 2, argv);
    }
  }
  for (unsigned i = 0; i < g_conns_top; i++) {
    Conn *c = &g_conns[i];
    if (!(c->generation & 1u)) continue;
    unsigned ready = hal_net_ready(c->handle);
    if ((ready & HAL_NET_WRITABLE) && c->send_len && conn_flush(c) < 0) {
      conn_closed(i);
      continue;
    }
    if (c->closing) {
      if (!c->send_len || now_us >= c->linger_until_us) conn_closed(i);
      continue;
    }
    if (!(ready & (HAL_NET_READABLE | HAL_NET_FAILED))) continue;
    if (c->read_paused) {
      /* Paused: bytes wait unread. A failure is still reported (level-triggered, it would wake every
         turn): the peer is gone or reset, so the connection ends now. */
      if (ready & HAL_NET_FAILED) conn_closed(i);
      continue;
    }
    for (unsigned n = 0; n < NET_READS_PER_TURN && (c->generation & 1u) && !c->closing && !c->read_paused; n++) {
      uint8_t buf[NET_READ_CHUNK_BYTES];
      long got = hal_net_recv(c->handle, buf, sizeof buf);
      if (got == HAL_E_AGAIN) break;
      if (got <= 0) {
        conn_closed(i);
        break;
      }
      Listener *l = &g_listeners[c->listener];
      TaskSlot *s = fw_slot_by_id(c->owner);
      if (!l->used || !s || s->task.state != TASK_RUNNING) {
        conn_free(c);
        break;
      }
      JSValue argv[2] = {JS_NewUint32(s->task.ctx, conn_id(i)), JS_NewUint8ArrayCopy(s->task.ctx, buf, (size_t)got)};
      if (JS_IsException(argv[1])) {
        /* The task has no memory even for the bytes: it is failing its quota, and its policy hears of
           that separately. Say so rather than lose the bytes silently. */
        JS_FreeValue(s->task.ctx, JS_GetException(s->task.ctx));
        fw_log("net", "task %s had no memory for %ld received bytes: dropped", s->label, got);
        break;
      }
      deliver(l, l->on_data, 2, argv);
      /* A short read emptied the socket: asking again now would only cost a syscall that answers
         EAGAIN (one per request on a request/response stream). Bytes that arrive later wake the
         next pump turn, since readiness is polled level-triggered. */
      if ((size_t)got < sizeof buf) break;
    }
  }
}

static uint64_t net_deadline(void *ctx) {
  (void)ctx;
  uint64_t d = HAL_DEADLINE_NONE;
  for (unsigned i = 0; i < g_conns_top; i++)
    if ((g_conns[i].generation & 1u) && g_conns[i].closing) {
      if (!g_conns[i].send_len) return 0;
      if (g_conns[i].linger_until_us < d) d = g_conns[i].linger_until_us;
    }
  return d;
}

static void net_register_source(void) {
  PumpSource src = {"net", net_poll, net_deadline, NULL};
  pump_add_source(&src);
}

/* No per-task state in the slot: sockets live in the firmware-wide tables above, owned by task id. */
const CapRegistration cap_net_registration = {
    .name = "net",
    .build = net_build,
    .register_source = net_register_source,
    .release_task = net_release_task,
    .reload_begin = net_reload_begin,
    .reload_end = net_reload_end,
};
