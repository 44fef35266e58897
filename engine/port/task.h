/* Task: one bytecode module in its own JSRuntime over its own arena, with a CPU slice per event. */
#ifndef COHESIX_ENGINE_TASK_H
#define COHESIX_ENGINE_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "quickjs.h"

#define TASK_NAME_BYTES_MAX 31u
#define TASK_DETAIL_BYTES_MAX 200u
/* The engine's own limit trips at this share of the arena, so quickjs-ng raises a catchable
   out-of-memory while the arena still has room for the error object and for unwinding. */
#define TASK_MEMORY_LIMIT_PERCENT 85u
/* JS stack bound; the host thread's stack (8 MiB) and the seL4 task stack are far larger. */
#define TASK_STACK_BYTES (256u * 1024u)
/* Promise jobs run after one delivery before the rest wait for the next pump turn. */
#define TASK_JOBS_PER_DELIVERY_MAX 256u
/* Bounds on manifest values the engine accepts. */
#define TASK_ARENA_BYTES_MIN (64u * 1024u)
#define TASK_ARENA_BYTES_MAX (256u * 1024u * 1024u)
#define TASK_CPU_SLICE_MS_MIN 1u
#define TASK_CPU_SLICE_MS_MAX 10000u

typedef enum TaskState { TASK_RUNNING = 0, TASK_FAULTED, TASK_EXITED } TaskState;

typedef enum TaskFault {
  TASK_FAULT_NONE = 0,
  TASK_FAULT_QUOTA, /* out of memory: the arena or the engine limit */
  TASK_FAULT_CPU,   /* one delivery ran past its slice and was interrupted */
  TASK_FAULT_STACK, /* stack overflow reached the pump */
  TASK_FAULT_LOAD,  /* the module failed to load or its main threw */
  TASK_FAULT_KILLED,
} TaskFault;

typedef struct Task Task;

/* What the owner (firmware/) hears from a task: uncaught errors that do not stop it, and faults. */
typedef struct TaskHooks {
  void (*uncaught)(Task *t, const char *text);
  void (*faulted)(Task *t);
} TaskHooks;

struct Task {
  uint32_t id;
  char name[TASK_NAME_BYTES_MAX + 1];
  TaskState state;
  TaskFault fault;
  char detail[TASK_DETAIL_BYTES_MAX + 1];
  void *mem;
  size_t mem_bytes;
  Arena *arena;
  JSRuntime *rt;
  JSContext *ctx;
  uint32_t cpu_slice_ms;
  uint64_t slice_deadline_us; /* 0 while the task is not running */
  uint64_t slice_cpu_mark_us; /* thread CPU time when the wall deadline first passed, or HAL_THREAD_CPU_NONE */
  uint64_t cpu_us;            /* total time spent in deliveries */
  uint32_t interrupted;       /* set when the slice ran out (interrupt handler or allocator) */
  uint32_t allocs_since_check;
  uint32_t alloc_grace;
  uint32_t jobs_pending;      /* promise jobs left over after the last delivery */
  const TaskHooks *hooks;
  void *owner; /* the firmware's task record (firmware/task_table.h TaskSlot) */
};

/* Creates the arena, runtime and context. On failure returns -1 with a reason in err. */
int task_create(Task *t, uint32_t id, const char *name, size_t arena_bytes, uint32_t cpu_slice_ms,
                const TaskHooks *hooks, char *err, size_t err_len);
/* Reads a verified module payload, evaluates it and returns its default export in *main_fn.
   Returns 0, or -1 (task faulted with TASK_FAULT_LOAD or a resource fault; detail says why). */
int task_load_module(Task *t, const uint8_t *payload, size_t len, const char *bundle, JSValue *main_fn);
/* Calls fn within one CPU slice, then runs pending jobs in the same slice. Consumes nothing.
   Returns 0 on success, 1 if JS threw (reported through hooks->uncaught; the task goes on),
   -1 if the task faulted (quota, cpu, stack) or was not running. */
int task_call(Task *t, JSValueConst fn, JSValueConst this_obj, int argc, JSValueConst *argv);
/* As task_call, but hands back fn's return value in *result (the caller frees it) when it returns 0;
   *result is JS_UNDEFINED otherwise. */
int task_call_result(Task *t, JSValueConst fn, JSValueConst this_obj, int argc, JSValueConst *argv, JSValue *result);
/* Reads obj[name] within one CPU slice (a getter is the task's own code and may not end).
   Returns 0 with *out set (the caller frees it), 1 if the getter threw (*out undefined; the task goes
   on), -1 if the task faulted or was not running. */
int task_get_property(Task *t, JSValueConst obj, const char *name, JSValue *out);
/* Runs leftover promise jobs within a fresh slice; same returns as task_call. */
int task_run_jobs(Task *t);
/* Moves a running slice's deadline later by us: time the task spent waiting on a nested call into
   another task (a reload run by root-task) is not its own CPU. */
void task_slice_extend(Task *t, uint64_t us);
/* Marks the task faulted without touching JS (used by kill and by the owner's policy). */
void task_mark_faulted(Task *t, TaskFault fault, const char *detail);
/* Returns the task's whole arena to the platform at once; JS values of this task must not be used after. */
void task_destroy(Task *t);
const char *task_fault_name(TaskFault f);
ArenaStats task_arena_stats(const Task *t);

#endif
