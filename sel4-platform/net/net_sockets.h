/* The socket half of the HAL (bindings/hal.h hal_net_*) over lwIP's raw TCP API: a bounded handle table in front of lwIP's PCBs, with readiness for the pump. */
#ifndef COHESIX_SEL4_NET_SOCKETS_H
#define COHESIX_SEL4_NET_SOCKETS_H

#include <stdint.h>

#include "../../bindings/limits.h" /* by path: a -I to bindings/ would shadow the libc's <limits.h> */

/* Handles: every connection lwIP can hold (a PCB each) and every listener; the same bounds as
   lwipopts.h (COHESIX_LWIP_TCP_PCBS, COHESIX_LWIP_TCP_LISTENERS), checked at compile time. */
#define NET_SOCKETS_HANDLES_MAX (NET_SOCKETS_MAX + NET_LISTENERS_MAX)
/* Connections lwIP completed for one listener that the firmware has not accepted yet (lwIP's
   backlog: SYNs past it are dropped and the client retries). Issue 13 showed a backlog of 16 stall
   a legitimate operator behind 32 hostile connects; every PCB may wait, so the backlog never is
   the tighter bound. */
#define NET_SOCKETS_LISTEN_BACKLOG NET_SOCKETS_MAX
/* Keep-alive on every accepted connection, so a peer that vanished without FIN or RST (a host
   that lost power) frees its handle: probes after 60 s idle, every 10 s, 6 unanswered = gone. */
#define NET_SOCKETS_KEEPALIVE_IDLE_MS 60000u
#define NET_SOCKETS_KEEPALIVE_INTERVAL_MS 10000u
#define NET_SOCKETS_KEEPALIVE_PROBES 6u
/* lwIP's poll callback period on a connection, in its coarse ticks (500 ms): a send refused for
   want of lwIP heap (not of this connection's buffer) is retried at least this often. */
#define NET_SOCKETS_POLL_COARSE_TICKS 2u

typedef struct NetSocketsStats {
  uint64_t accepted;        /* connections lwIP completed and a handle took */
  uint64_t accept_refused;  /* completed connections reset for want of a handle */
  uint64_t resets;          /* connections lwIP ended with an error (peer RST, retransmits exhausted) */
  uint64_t send_busy;       /* sends refused with HAL_E_AGAIN: back-pressure, nothing lost */
} NetSocketsStats;

/* Empties the table (lwip_init has run and the interface is up). Until it is called every listen is refused. */
void net_sockets_init(void);
/* After lwIP has taken its input and run its timers: works out every handle's readiness, which
   hal_net_ready reports until the next call. Returns how many handles are ready (the pump must
   not sleep while any is). */
unsigned net_sockets_collect(void);
/* Handles in use (connections, pending connections and listeners). */
unsigned net_sockets_in_use(void);
NetSocketsStats net_sockets_stats(void);

#endif
