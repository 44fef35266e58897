/* Accept rate tests: peer hosts, the burst then the sustained rate per source, sources apart, bounded table, refusal log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "accept_rate.h"

#define SECOND_US 1000000u

static AcceptRate g_rate;

static void peer_host_drops_the_port(void **state) {
  (void)state;
  char h[ACCEPT_HOST_BYTES_MAX + 1];
  accept_peer_host("127.0.0.3:40112", h, sizeof h);
  assert_string_equal(h, "127.0.0.3");
  accept_peer_host("[::1]:5640", h, sizeof h);
  assert_string_equal(h, "::1");
  accept_peer_host("fe80::1", h, sizeof h);
  assert_string_equal(h, "fe80::1");
  accept_peer_host("uart", h, sizeof h);
  assert_string_equal(h, "uart");
}

/* Regression (issue 13): a source re-opening every evicted pre-AUTH connection made ~10,000
   connections a second, each relayed to root-task; past the burst its connections are refused. */
static void source_reconnecting_in_a_loop_is_refused_past_its_burst(void **state) {
  (void)state;
  accept_rate_reset(&g_rate);
  uint64_t now = 5u * SECOND_US;
  for (unsigned i = 0; i < ACCEPT_BURST_PER_SOURCE; i++) {
    assert_int_equal(accept_rate_check(&g_rate, "127.0.0.3:1000", now, NULL), ACCEPT_ADMIT);
  }
  uint32_t refused = 0;
  assert_int_equal(accept_rate_check(&g_rate, "127.0.0.3:1001", now, &refused), ACCEPT_REFUSE_AND_LOG);
  assert_int_equal(refused, 1);
  /* Within the log interval: refused quietly, counted for the next line. */
  for (unsigned i = 0; i < 10; i++) assert_int_equal(accept_rate_check(&g_rate, "127.0.0.3:1002", now + i, NULL), ACCEPT_REFUSE);
  /* Another address is untouched by it. */
  assert_int_equal(accept_rate_check(&g_rate, "127.0.0.2:2000", now, NULL), ACCEPT_ADMIT);
  /* Past the interval the next refusal's line counts every one since the last line. */
  uint64_t later = now + ACCEPT_REFUSAL_LOG_INTERVAL_US / 2u;
  /* Half a second refills half a second's rate: exactly that many more are admitted. */
  unsigned admitted = 0;
  while (accept_rate_check(&g_rate, "127.0.0.3:1003", later, NULL) == ACCEPT_ADMIT) admitted++;
  assert_int_equal(admitted, ACCEPTS_PER_SOURCE_PER_S / 2u);
  uint64_t after = now + ACCEPT_REFUSAL_LOG_INTERVAL_US;
  while (accept_rate_check(&g_rate, "127.0.0.3:1004", after, &refused) == ACCEPT_ADMIT) {
  }
  assert_int_equal(refused, 10u + 1u + 1u);
}

static void sustained_rate_is_admitted_and_burst_refills(void **state) {
  (void)state;
  accept_rate_reset(&g_rate);
  uint64_t now = SECOND_US;
  /* One connection every 1/rate seconds, for ten seconds: never refused. */
  uint64_t step = SECOND_US / ACCEPTS_PER_SOURCE_PER_S;
  for (unsigned i = 0; i < 10u * ACCEPTS_PER_SOURCE_PER_S; i++) {
    assert_int_equal(accept_rate_check(&g_rate, "10.0.0.1:1", now, NULL), ACCEPT_ADMIT);
    now += step;
  }
  /* Idle long enough: the whole burst again, never more. */
  now += 100u * SECOND_US;
  unsigned admitted = 0;
  while (accept_rate_check(&g_rate, "10.0.0.1:1", now, NULL) == ACCEPT_ADMIT) admitted++;
  assert_int_equal(admitted, ACCEPT_BURST_PER_SOURCE);
}

static void table_forgets_the_least_recently_seen_source(void **state) {
  (void)state;
  accept_rate_reset(&g_rate);
  char peer[32];
  /* Exhaust source 0, then see ACCEPT_SOURCES_MAX other sources: source 0 is forgotten and starts afresh. */
  while (accept_rate_check(&g_rate, "10.1.0.0:1", 1, NULL) == ACCEPT_ADMIT) {
  }
  for (unsigned i = 1; i <= ACCEPT_SOURCES_MAX; i++) {
    snprintf(peer, sizeof peer, "10.1.%u.%u:1", i / 256u, i % 256u);
    assert_int_equal(accept_rate_check(&g_rate, peer, 2u + i, NULL), ACCEPT_ADMIT);
  }
  assert_int_equal(accept_rate_check(&g_rate, "10.1.0.0:1", 3u + ACCEPT_SOURCES_MAX, NULL), ACCEPT_ADMIT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peer_host_drops_the_port),
      cmocka_unit_test(source_reconnecting_in_a_loop_is_refused_past_its_burst),
      cmocka_unit_test(sustained_rate_is_admitted_and_burst_refills),
      cmocka_unit_test(table_forgets_the_least_recently_seen_source),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
