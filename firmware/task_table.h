/* The contract between the firmware and its capabilities: the registration entry each capability defines, the task record it may read, and the few firmware services it may call. */
#ifndef COHESIX_FIRMWARE_TASK_TABLE_H
#define COHESIX_FIRMWARE_TASK_TABLE_H

/*
 * Why a firmware/ header that bindings/ includes: the firmware calls a capability only through its
 * entry in the registration list (bindings/registry.h), and a capability reaches the task table only
 * through the services declared here, never through the table itself (firmware/firmware.h is the
 * firmware's own). Capability code includes this header and bindings/ headers; firmware code never
 * includes a capability's file nor names a capability's function. The header graph stays acyclic
 * (scripts/check-include-cycles.mjs checks it).
 */

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "manifest.h"
#include "quickjs.h"
#include "registry.h"
#include "task.h"

/* Capability ids: the position in the registration list, and the bit (1 << id) in a task's grant mask. */
#define COHESIX_CAP_ID(ID, name) CAP_##ID,
typedef enum CapId { COHESIX_CAPABILITIES(COHESIX_CAP_ID) CAP_COUNT } CapId;
#undef COHESIX_CAP_ID

/* Per-task state every registered capability may keep inside a task's slot, all capabilities
   together; a registration asking for more fails boot's check (fw_caps_check) and test_registry. */
#define TASK_CAP_STATE_BYTES_MAX 4096u
/* Each capability's share of that state starts on this boundary (any C object fits). */
#define TASK_CAP_STATE_ALIGN_BYTES 16u

typedef struct TaskSlot TaskSlot;

/*
 * One capability, as the firmware knows it. Every hook but build may be NULL. A hook runs on the
 * firmware's own stack, never inside another task's CPU slice unless it calls fw_call.
 */
typedef struct CapRegistration {
  /* Its name in manifests' grants and in the caps object (js/caps/index.ts). */
  const char *name;
  /* Builds the natives object installed as caps.<name> in a task's main(caps). */
  JSValue (*build)(JSContext *ctx);
  /* Adds its pump source (pump.h), once at boot. */
  void (*register_source)(void);
  /* Bytes of per-task state the firmware keeps for it in every slot (fw_cap_state), zeroed for a new runtime. */
  size_t task_state_bytes;
  /* Sets that state up for a new runtime (its JS values JS_UNDEFINED) after it is zeroed. */
  void (*init_task)(TaskSlot *s);
  /* The task is gone (killed, faulted and freed, or the firmware stopping): frees what the
     capability holds for it outside its arena, without touching its JS values (the arena goes whole). */
  void (*release_task)(TaskSlot *s);
  /* Task `faulted` faulted: tells whoever supervises it and returns 0, or -1 when nobody listens
     (if no capability hears it, the firmware frees the task). */
  int (*task_faulted)(TaskSlot *faulted);
  /* Hot reload of one task id: the new runtime in slot `next` takes over from `old` (begin), then
     either keeps it (committed) or gives it back (rolled back). What outlives a task's code moves
     here; what belongs to one runtime stays in its slot and goes with it. */
  void (*reload_begin)(TaskSlot *old, TaskSlot *next);
  void (*reload_end)(TaskSlot *old, TaskSlot *next, int committed);
} CapRegistration;

/* The registration list, in CapId order (firmware/caps.c builds it from bindings/registry.h). */
extern const CapRegistration *const CAP_REGISTRY[CAP_COUNT];

/* One task's record in the task table. Capabilities read it; only the firmware writes it. */
struct TaskSlot {
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
  JSValue handle;    /* what main returned: an optional {snapshot, restore} pair for hot reload */
  uint8_t *bytecode; /* a reloaded task's own copy of its bytecode; NULL = the image's */
  size_t bytecode_len;
  int fault_reported; /* a supervisor has heard about it (or nobody could) */
  /* Each registered capability's per-task state (task_state_bytes of cap_pool, set at spawn). */
  void *cap_state[CAP_COUNT];
  _Alignas(TASK_CAP_STATE_ALIGN_BYTES) unsigned char cap_pool[TASK_CAP_STATE_BYTES_MAX];
};

/* ---- services a capability may call ---- */

/* The live task with this id (not the parked half of a reload), or NULL. */
TaskSlot *fw_slot_by_id(uint32_t id);
/* The task whose runtime ctx is. */
TaskSlot *fw_slot_of_ctx(JSContext *ctx);
/* The task table for a scan: slots [0, *top) may be used (check ->used); past *top none ever was. */
TaskSlot *fw_slots(unsigned *top);
/* This capability's per-task state in slot s (see CapRegistration.task_state_bytes). */
static inline void *fw_cap_state(TaskSlot *s, CapId cap) { return s->cap_state[cap]; }
/* Starts a manifest task as a child of parent_id; returns the new slot or NULL with err filled. */
TaskSlot *fw_spawn(const ManifestTask *spec, const char *label, uint32_t parent_id, const char *args_json, char *err,
                   size_t err_len);
void fw_kill(TaskSlot *s, TaskFault why, const char *detail);
/* Calls a JS function of slot s within its CPU slice; logs uncaught errors. */
int fw_call(TaskSlot *s, JSValueConst fn, int argc, JSValueConst *argv);
/* One line to the firmware log: "[who] text". */
void fw_log(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A task logged this line (cut at its first newline): the firmware watches root-task's for ONLINE (online.h). */
void fw_note_task_log(const TaskSlot *s, const char *line, size_t len);
/* The verified image's manifest. */
const Manifest *fw_manifest(void);
/* The bytes of the verified image's entry `name`, or NULL. */
const uint8_t *fw_image_entry(const char *name, size_t *len);
/* Verifies a whole hive image exactly as boot does (image_open: signature before any bytecode, the
   trusted key, the engine fingerprint, every bundle) without running it; fills image_id (the
   manifest's) on success. -1 with err (image_refusal_tag names it) when it would be refused. */
int fw_image_verify(const uint8_t *buf, size_t len, char *image_id, size_t id_cap, char *err, size_t err_len);
/* hal_clock_us() when the firmware booted. */
uint64_t fw_boot_us(void);

/* ---- grants and errors (firmware/caps.c) ---- */

/* 0 if the calling task holds cap; else throws CapabilityError (code ECAP) and returns -1. */
int cap_require(JSContext *ctx, CapId cap);
/* Throws a CapError {code, cap, message}, as js/caps/index.ts's CapErrorShape says. */
JSValue cap_throw(JSContext *ctx, CapId cap, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *cap_name(CapId cap);

#endif
