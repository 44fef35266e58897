/* lwIP's port header for the Cohesix seL4 root task (and the host tests): picolibc or glibc types, no OS, our assert and random hooks. */
#ifndef COHESIX_LWIP_ARCH_CC_H
#define COHESIX_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/* Byte order: lwIP's default (little-endian) is right for AArch64 and the x86-64 test hosts alike. */

/* lwIP's own errno values would clash with picolibc's; no sockets API, so its errno is not needed. */
#define LWIP_ERRNO_STDINCLUDE 1

/* Diagnostics and failed assertions go through the glue (sel4-platform/net/virtio_netif.c). Diagnostics
   only exist with LWIP_DEBUG (off). A failed assertion is a bug in the stack or in our use of it: the
   glue prints it on the console and aborts, since serving from a corrupt stack is worse than stopping. */
void cohesix_lwip_diag(const char *message);
void cohesix_lwip_assert(const char *message, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) cohesix_lwip_diag("lwip diag")
#define LWIP_PLATFORM_ASSERT(x) cohesix_lwip_assert((x), __FILE__, __LINE__)

/* Local port choice for outgoing connections (we make none yet) and DNS ids (off): a xorshift in the
   glue, seeded at start. Not for secrets: TCP sequence numbers come from lwIP's own ISN counter. */
uint32_t cohesix_lwip_rand(void);
#define LWIP_RAND() cohesix_lwip_rand()

#endif
