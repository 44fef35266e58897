/* Shared state of the firmware's bindings: the task table, grants, and what each capability keeps per task. */
#ifndef COHESIX_BINDINGS_FIRMWARE_H
#define COHESIX_BINDINGS_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "manifest.h"
#include "quickjs.h"
#include "task.h"

/* Capability ids; the bit (1 << id) in a task's grant mask. Names as in js/caps/index.ts. */
typedef enum CapId { CAP_LOG = 0, CAP_CONSOLE, CAP_NET, CAP_TIMER, CAP_CHANNEL, CAP_TASK, CAP_IMAGE, CAP_COUNT } CapId;

/* Promise-free, bounded per-task timers. */
typedef struct TimerSlot {
  uint32_t generation; /* 0 = free; part of the id handed to JS so stale ids do nothing */
  uint64_t due_us;
  uint64_t period_us; /* 0 for one-shot */
  JSValue fn;
} TimerSlot;

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

typedef struct TaskSlot {
  int used;
  int started;     /* main has been called */
  int parked;      /* the old half of a reload in progress: not found by id */
  int trial;       /* the new half of a reload in progress: its errors go into the reload's answer */
  char trial_error[TASK_DETAIL_BYTES_MAX + 1]; /* first uncaught error of a trial runtime */
  Task task;
  const ManifestTask *spec;
  char label[TASK_NAME_BYTES_MAX + 1];
  uint32_t grants;
  uint32_t parent_id;
  char *args_json; /* handed to main as config.args (again on a hot reload) */
  JSValue main_fn;
  JSValue handle;     /* what main returned: an optional {snapshot, restore} pair for hot reload */
  uint8_t *bytecode;  /* a reloaded task's own copy of its bytecode; NULL = the image's */
  size_t bytecode_len;
  JSValue on_input;   /* console.onInput */
  JSValue on_message; /* channel.onMessage */
  JSValue on_fault;   /* task.onFault */
  JSValue on_link;    /* channel.onLink */
  LinkEvent links[CHANNEL_ENDPOINTS_MAX];
  unsigned link_count;
  TimerSlot timers[TIMERS_PER_TASK_MAX];
  /* Live timers in `timers`: the pump's scans stop once they have seen this many (most tasks
     hold a few timers in the first slots, and every pump turn scans twice). */
  unsigned timers_live;
  Endpoint endpoints[CHANNEL_ENDPOINTS_MAX];
  ChannelMessage *inbox_head, *inbox_tail;
  unsigned inbox_count;
  size_t inbox_bytes;
  int fault_reported; /* the spawner's onFault has heard about it */
} TaskSlot;

typedef struct Firmware {
  const Manifest *manifest;
  const uint8_t *image;
  size_t image_len;
  TaskSlot slots[TASKS_MAX];
  /* One past the highest slot ever taken: the pump's per-turn scans stop there (a hive uses a few
     of the TASKS_MAX, and the full scans were a tenth of a 9P request's cost in the firmware). */
  unsigned slots_top;
  /* Bundles replaced for later spawns by a hot reload, by manifest task index (dev images). */
  struct {
    uint8_t *payload;
    size_t payload_len;
  } bundles[MANIFEST_TASKS_MAX];
  uint32_t next_task_id;
  uint32_t uart_owner; /* task id whose console.onInput gets UART bytes */
  uint64_t boot_us;
  volatile int stop;
  int exit_code;
} Firmware;

extern Firmware g_fw;

/* Task table */
TaskSlot *fw_slot_by_id(uint32_t id);
/* Marks a free slot used (after its task is created) and moves slots_top past it. */
void fw_slot_take(TaskSlot *s);
TaskSlot *fw_slot_of_ctx(JSContext *ctx);
/* Starts a manifest task; returns the new slot or NULL with err filled. */
TaskSlot *fw_spawn(const ManifestTask *spec, const char *label, uint32_t parent_id, const char *args_json, char *err,
                   size_t err_len);
void fw_kill(TaskSlot *s, TaskFault why, const char *detail);
/* Calls main(caps, config) of a spawned task and keeps what it returns; 0 if main returned normally. */
int fw_start(TaskSlot *s);
/* Calls a JS function of slot s within its CPU slice; logs uncaught errors (via hooks). */
int fw_call(TaskSlot *s, JSValueConst fn, int argc, JSValueConst *argv);
/* Copies the first line of the next uncaught JS error into buf as well as logging it (NULL stops). */
void fw_capture_uncaught(char *buf, size_t len);
void fw_log(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Grants and errors (caps.c) */
int cap_require(JSContext *ctx, CapId cap);
JSValue cap_throw(JSContext *ctx, CapId cap, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *cap_name(CapId cap);
int cap_parse(const char *name, CapId *out);
/* Builds the caps object handed to a task's main. */
JSValue caps_new(JSContext *ctx);

/* Per-capability object builders and their pump sources. */
JSValue cap_log_object(JSContext *ctx);
JSValue cap_console_object(JSContext *ctx);
JSValue cap_net_object(JSContext *ctx);
JSValue cap_timer_object(JSContext *ctx);
JSValue cap_channel_object(JSContext *ctx);
JSValue cap_task_object(JSContext *ctx);
JSValue cap_image_object(JSContext *ctx);

void console_register_source(void);
void net_register_source(void);
void timer_register_source(void);
void channel_register_source(void);
void tasks_register_source(void);

/* Releases what a capability holds for a task being destroyed, without touching its JS values. */
void net_release_task(uint32_t task_id);
void timer_release_task(TaskSlot *s);
void channel_release_task(TaskSlot *s);
/* Hot reload: listeners of task_id opened again (same host and port) by the new code adopt the old
   sockets; at the end the old ones not adopted close (commit) or the adoption is undone (rollback). */
void net_reload_begin(uint32_t task_id);
void net_reload_end(uint32_t task_id, int committed);

/* Creates the endpoint pair between two live tasks; returns a's endpoint index or -1. */
int channel_link(TaskSlot *a, TaskSlot *b, int b_ep);
/* Records that `to` gained endpoint ep leading to peer; delivered as channel.onLink. */
void channel_note_link(TaskSlot *to, int ep, uint32_t peer_id);

#endif
