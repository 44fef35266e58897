/* The engine half of the HAL: what the pump and arenas need from a platform (host/sim, sel4-platform). */
#ifndef COHESIX_ENGINE_HAL_H
#define COHESIX_ENGINE_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Sentinel for "no deadline" in hal_wait_until. */
#define HAL_DEADLINE_NONE UINT64_MAX

/* Monotonic microseconds since an arbitrary start; never goes back. */
uint64_t hal_clock_us(void);
/* hal_thread_cpu_us's answer where the monotonic clock is already the pump's CPU time (nothing
   preempts it: the seL4 root task). */
#define HAL_THREAD_CPU_NONE UINT64_MAX
/* CPU time the calling thread has run, in µs, or HAL_THREAD_CPU_NONE. It may cost a system call, so
   the engine reads it only when a slice's wall deadline has passed: a host that preempted the pump
   (a loaded machine, a flood of connections on a small VM) must not make a task's slice run out. */
uint64_t hal_thread_cpu_us(void);
/* Wall clock in Unix epoch milliseconds (may jump). */
uint64_t hal_wall_ms(void);
/* Memory for one arena: ARENA_ALIGN_BYTES-aligned at least, or NULL. Each call is its own region,
   so freeing it returns exactly that task's memory to the platform. */
void *hal_mem_alloc(size_t bytes);
void hal_mem_free(void *mem, size_t bytes);
/* Blocks until some device has an event or the monotonic clock passes deadline_us. */
void hal_wait_until(uint64_t deadline_us);

#endif
