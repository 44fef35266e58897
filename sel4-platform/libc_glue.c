/* picolibc glue for the root task: stdout/stderr on the console, sbrk over a bounded heap, _exit,
 * clocks from the HAL, and honest refusals (ENOSYS) for what a root task has no use for. No seL4 includes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine_hal.h"
#include "libc_glue.h"

/* ---- stdio: picolibc's tiny stdio asks the application for its three streams ---- */

static int glue_putc(char c, FILE *f) {
  (void)f;
  platform_console_write(&c, 1);
  return (unsigned char)c;
}

static FILE g_console = FDEV_SETUP_STREAM(glue_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = NULL; /* the console is read through the HAL's UART ring, never through stdio */
FILE *const stdout = &g_console;
FILE *const stderr = &g_console;

/* ---- heap ---- */

static _Alignas(16) uint8_t g_heap[GLUE_HEAP_BYTES];
static size_t g_heap_used;

void *sbrk(ptrdiff_t incr) {
  if (incr < 0 || (size_t)incr > GLUE_HEAP_BYTES - g_heap_used) {
    errno = ENOMEM; /* malloc returns NULL; callers turn that into Busy/Quota */
    return (void *)-1;
  }
  void *old = g_heap + g_heap_used;
  g_heap_used += (size_t)incr;
  return old;
}

/* ---- process ---- */

void _exit(int code) { platform_halt(code); }

pid_t getpid(void) { return 1; }

int kill(pid_t pid, int sig) {
  (void)pid;
  (void)sig;
  errno = ENOSYS;
  return -1;
}

ssize_t write(int fd, const void *buf, size_t len) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  platform_console_write(buf, len);
  return (ssize_t)len;
}

ssize_t read(int fd, void *buf, size_t len) {
  (void)fd;
  (void)buf;
  (void)len;
  errno = EBADF;
  return -1;
}

/* No entropy source on this board yet (virtio-rng comes with the network). */
int getentropy(void *buf, size_t len) {
  (void)buf;
  (void)len;
  errno = ENOSYS;
  return -1;
}

/* ---- time: the HAL's clocks ---- */

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  uint64_t ms = hal_wall_ms();
  tv->tv_sec = (time_t)(ms / 1000u);
  tv->tv_usec = (suseconds_t)((ms % 1000u) * 1000u);
  return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  uint64_t us;
  if (id == CLOCK_MONOTONIC) us = hal_clock_us();
  else if (id == CLOCK_REALTIME) us = hal_wall_ms() * 1000u;
  else {
    errno = EINVAL;
    return -1;
  }
  ts->tv_sec = (time_t)(us / 1000000u);
  ts->tv_nsec = (long)(us % 1000000u) * 1000L;
  return 0;
}

/* Debian's picolibc is built with outline atomics, which ask the (absent) aux vector for CPU
   features; "none" selects the plain LL/SC paths, correct on every ARMv8 core. */
unsigned long __getauxval(unsigned long type) {
  (void)type;
  return 0;
}
