/* What picolibc's glue needs from the platform main: the console sink and how to stop for good. */
#ifndef COHESIX_SEL4_LIBC_GLUE_H
#define COHESIX_SEL4_LIBC_GLUE_H

#include <stddef.h>

/* Heap behind malloc (sbrk): channel messages, manifest copy, socket send buffers. Task arenas are
   NOT here: they are frames mapped per task (frame_pool.h). Bound: bindings/limits.h inboxes
   (CHANNEL_INBOX_BYTES_MAX x a handful of busy tasks) plus the manifest. */
#define GLUE_HEAP_BYTES (4u * 1024u * 1024u)

/* Provided by the platform main (root_task.c on seL4, a stub in the link check). */
void platform_console_write(const char *s, size_t len);
_Noreturn void platform_halt(int code);

#endif
