/* Per-source accept rate for listeners: token buckets keyed by peer host, bounded table, least recently seen forgotten. */
#include "accept_rate.h"

#include <string.h>

/* Credit is kept in millionths of a connection: µs × connections/s, with no division and nothing lost to rounding. */
#define CREDIT_PER_CONNECTION 1000000u

void accept_rate_reset(AcceptRate *r) { memset(r, 0, sizeof *r); }

void accept_peer_host(const char *peer, char *host, size_t host_len) {
  if (host_len == 0) return;
  size_t n = strlen(peer);
  const char *start = peer;
  if (peer[0] == '[') {
    const char *close = strchr(peer, ']');
    if (close) {
      start = peer + 1;
      n = (size_t)(close - start);
    }
  } else {
    const char *colon = strrchr(peer, ':');
    /* One colon: host:port. Several and no brackets: a bare IPv6 address, kept whole. */
    if (colon && colon == strchr(peer, ':')) n = (size_t)(colon - peer);
  }
  if (n >= host_len) n = host_len - 1;
  memcpy(host, start, n);
  host[n] = '\0';
}

static AcceptSource *source_for(AcceptRate *r, const char *host, uint64_t now_us) {
  AcceptSource *free_slot = NULL, *oldest = &r->sources[0];
  for (unsigned i = 0; i < ACCEPT_SOURCES_MAX; i++) {
    AcceptSource *s = &r->sources[i];
    if (s->host[0] == '\0') {
      if (!free_slot) free_slot = s;
      continue;
    }
    if (strcmp(s->host, host) == 0) return s;
    if (s->seen_us < oldest->seen_us) oldest = s;
  }
  /* A new source starts with a full burst; past the table's bound the least recently seen goes. */
  AcceptSource *s = free_slot ? free_slot : oldest;
  memset(s, 0, sizeof *s);
  size_t n = strlen(host); /* accept_peer_host bounded it to ACCEPT_HOST_BYTES_MAX */
  memcpy(s->host, host, n + 1u);
  s->credit = (uint64_t)ACCEPT_BURST_PER_SOURCE * CREDIT_PER_CONNECTION;
  s->seen_us = now_us;
  return s;
}

AcceptVerdict accept_rate_check(AcceptRate *r, const char *peer, uint64_t now_us, uint32_t *refused_out) {
  char host[ACCEPT_HOST_BYTES_MAX + 1];
  accept_peer_host(peer, host, sizeof host);
  AcceptSource *s = source_for(r, host, now_us);
  if (now_us > s->seen_us) {
    uint64_t cap = (uint64_t)ACCEPT_BURST_PER_SOURCE * CREDIT_PER_CONNECTION;
    uint64_t gap_us = now_us - s->seen_us;
    /* A gap long enough to fill the bucket fills it (and cannot overflow the product below). */
    uint64_t gained = gap_us >= cap ? cap : gap_us * ACCEPTS_PER_SOURCE_PER_S;
    s->credit = s->credit + gained > cap ? cap : s->credit + gained;
    s->seen_us = now_us;
  }
  if (s->credit >= CREDIT_PER_CONNECTION) {
    s->credit -= CREDIT_PER_CONNECTION;
    return ACCEPT_ADMIT;
  }
  s->refused_unlogged++;
  if (s->logged_us != 0 && now_us - s->logged_us < ACCEPT_REFUSAL_LOG_INTERVAL_US) return ACCEPT_REFUSE;
  s->logged_us = now_us ? now_us : 1u;
  if (refused_out) *refused_out = s->refused_unlogged;
  s->refused_unlogged = 0;
  return ACCEPT_REFUSE_AND_LOG;
}
