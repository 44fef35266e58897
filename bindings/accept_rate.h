/* Per-source accept rate: a token bucket per peer host, so one address reconnecting in a loop is refused in C, before any JavaScript runs. */
#ifndef COHESIX_BINDINGS_ACCEPT_RATE_H
#define COHESIX_BINDINGS_ACCEPT_RATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Why: a client that re-opens every connection the console closes (an evicted pre-AUTH socket, a
 * refused one) makes the firmware accept, relay and refuse thousands of connections a second; at
 * about 90 µs of JavaScript each that took ~90% of a CPU and made a legitimate operator wait past
 * 1 s (issue 13). Refusing a source's connections past its rate costs an accept and a close.
 * The bounds leave any operator pattern far below them (a shell, the bridge and a UI each hold one
 * connection; a script reconnecting in a loop does tens a second).
 */
/* Connections one source host may open at once before the rate applies. */
#define ACCEPT_BURST_PER_SOURCE 64u
/* Connections a second one source host may open, sustained. */
#define ACCEPTS_PER_SOURCE_PER_S 128u
/* Source hosts remembered per listener; the least recently seen is forgotten past this. */
#define ACCEPT_SOURCES_MAX 64u
/* Longest host kept (the peer string without its port). */
#define ACCEPT_HOST_BYTES_MAX 63u
/* A source's refusals are logged at most once in this long, with the count since the last line. */
#define ACCEPT_REFUSAL_LOG_INTERVAL_US (1000u * 1000u)

typedef struct AcceptSource {
  char host[ACCEPT_HOST_BYTES_MAX + 1]; /* "" = free */
  uint64_t credit;                      /* connections it may still open, in millionths */
  uint64_t seen_us;                     /* last refill (and last use, for forgetting) */
  uint64_t logged_us;                   /* last refusal line */
  uint32_t refused_unlogged;            /* refusals since that line */
} AcceptSource;

typedef struct AcceptRate {
  AcceptSource sources[ACCEPT_SOURCES_MAX];
} AcceptRate;

typedef enum { ACCEPT_ADMIT = 0, ACCEPT_REFUSE, ACCEPT_REFUSE_AND_LOG } AcceptVerdict;

void accept_rate_reset(AcceptRate *r);
/* The host part of a peer string: `1.2.3.4:5678` → `1.2.3.4`, `[::1]:5678` → `::1`, else the whole string. */
void accept_peer_host(const char *peer, char *host, size_t host_len);
/*
 * One connection from `peer` at `now_us` (monotonic): admitted, or refused. ACCEPT_REFUSE_AND_LOG
 * asks the caller to log one line now; *refused_out then holds the refusals that line covers.
 */
AcceptVerdict accept_rate_check(AcceptRate *r, const char *peer, uint64_t now_us, uint32_t *refused_out);

#endif
