/* A/B image slots: which slot to boot, when to fall back, and when a new image becomes the last good one. */
#include "slots.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"
#include "sha256.h"

/* Every refusal here reads "slots: <detail>". */
#define fail(err, err_len, ...) error_text((err), (err_len), "slots: ", __VA_ARGS__)

static void why(SlotBoot *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(SlotBoot *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->why, sizeof b->why, fmt, ap);
  va_end(ap);
}

char slot_name(SlotId s) { return s == SLOT_A ? 'A' : s == SLOT_B ? 'B' : '-'; }

static SlotId other(SlotId s) { return s == SLOT_A ? SLOT_B : SLOT_A; }

static int parse_slot(char c, int allow_none, SlotId *out) {
  if (c == 'A') *out = SLOT_A;
  else if (c == 'B') *out = SLOT_B;
  else if (c == '-' && allow_none) *out = SLOT_NONE;
  else return -1;
  return 0;
}

static void check_hex(const char *text, size_t len, char out[SLOT_STATE_CHECK_HEX_DIGITS + 1]) {
  uint8_t d[SHA256_DIGEST_BYTES];
  char hex[SHA256_HEX_BYTES];
  sha256((const uint8_t *)text, len, d);
  sha256_hex(d, hex);
  memcpy(out, hex, SLOT_STATE_CHECK_HEX_DIGITS);
  out[SLOT_STATE_CHECK_HEX_DIGITS] = 0;
}

size_t slot_state_encode(const SlotState *st, char *out, size_t cap) {
  char body[SLOT_STATE_BYTES_MAX], check[SLOT_STATE_CHECK_HEX_DIGITS + 1];
  int n = snprintf(body, sizeof body, "%s active=%c last_good=%c attempts=%u", SLOT_STATE_SCHEMA, slot_name(st->active),
                   slot_name(st->last_good), (unsigned)st->attempts);
  if (n < 0 || (size_t)n >= sizeof body) return 0;
  check_hex(body, (size_t)n, check);
  int m = snprintf(out, cap, "%s check=%s\n", body, check);
  return m < 0 || (size_t)m >= cap ? 0 : (size_t)m;
}

int slot_state_decode(const char *buf, size_t len, SlotState *st, char *err, size_t err_len) {
  char text[SLOT_STATE_BYTES_MAX + 1];
  if (len == 0 || len > SLOT_STATE_BYTES_MAX) return fail(err, err_len, "state record is %zu bytes, not 1..%u", len, SLOT_STATE_BYTES_MAX);
  if (memchr(buf, 0, len)) return fail(err, err_len, "state record holds a NUL byte");
  memcpy(text, buf, len);
  text[len] = 0;
  if (text[len - 1] != '\n') return fail(err, err_len, "state record does not end with a newline (torn write?)");
  text[len - 1] = 0;
  char active, last_good, check[SLOT_STATE_CHECK_HEX_DIGITS + 2];
  unsigned attempts;
  int consumed = -1;
  if (sscanf(text, SLOT_STATE_SCHEMA " active=%c last_good=%c attempts=%3u check=%17s%n", &active, &last_good, &attempts, check,
             &consumed) != 4 ||
      consumed != (int)len - 1 || strncmp(text, SLOT_STATE_SCHEMA " ", sizeof SLOT_STATE_SCHEMA) != 0)
    return fail(err, err_len, "state record is not '%s active=A|B last_good=A|B|- attempts=N check=<hex>'", SLOT_STATE_SCHEMA);
  SlotState s;
  if (parse_slot(active, 0, &s.active) < 0 || parse_slot(last_good, 1, &s.last_good) < 0)
    return fail(err, err_len, "state record names a slot other than A or B");
  if (attempts > SLOT_ATTEMPTS_MAX) return fail(err, err_len, "state record: attempts %u over %u", attempts, SLOT_ATTEMPTS_MAX);
  s.attempts = attempts;
  /* Canonical form only: re-encoding must give the same bytes, so the check covers every byte. */
  char again[SLOT_STATE_BYTES_MAX + 1];
  size_t n = slot_state_encode(&s, again, sizeof again);
  if (n != len || memcmp(again, buf, len) != 0) return fail(err, err_len, "state record check differs (corrupted, or not canonical)");
  *st = s;
  return 0;
}

static int persist(const SlotStore *store, const SlotState *st, char *err, size_t err_len) {
  char rec[SLOT_STATE_BYTES_MAX + 1];
  size_t n = slot_state_encode(st, rec, sizeof rec);
  if (n == 0) return fail(err, err_len, "state record does not fit %u bytes", SLOT_STATE_BYTES_MAX);
  return store->write_state(store->ctx, rec, n, err, err_len);
}

/* No usable record: the first slot holding an image is tried, and nothing is known good yet. */
static int initial(const SlotStore *store, SlotBoot *b, const char *because, char *err, size_t err_len) {
  SlotId s = store->has_image(store->ctx, SLOT_A) ? SLOT_A : store->has_image(store->ctx, SLOT_B) ? SLOT_B : SLOT_NONE;
  if (s == SLOT_NONE) return fail(err, err_len, "%s, and neither slot A nor slot B holds an image", because);
  b->state = (SlotState){s, SLOT_NONE, 0};
  why(b, "%s: starting with slot %c", because, slot_name(s));
  return 0;
}

int slots_plan(const SlotStore *store, SlotBoot *b, char *err, size_t err_len) {
  memset(b, 0, sizeof *b);
  char rec[SLOT_STATE_BYTES_MAX + 1], perr[200];
  size_t len = 0;
  int r = store->read_state(store->ctx, rec, sizeof rec, &len, err, err_len);
  if (r < 0) return -1;
  char because[SLOT_WHY_BYTES_MAX] = "";
  if (r == 1) {
    if (initial(store, b, "no state record", err, err_len) < 0) return -1;
  } else if (slot_state_decode(rec, len, &b->state, perr, sizeof perr) < 0) {
    snprintf(because, sizeof because, "state record unreadable (%s)", perr);
    if (initial(store, b, because, err, err_len) < 0) return -1;
  }
  snprintf(because, sizeof because, "%s", b->why);
  SlotState *st = &b->state;
  if (st->last_good != SLOT_NONE && !store->has_image(store->ctx, st->last_good)) st->last_good = SLOT_NONE;
  if (!store->has_image(store->ctx, st->active)) {
    SlotId o = other(st->active);
    if (!store->has_image(store->ctx, o)) return fail(err, err_len, "neither slot A nor slot B holds an image");
    why(b, "slot %c holds no image: booting slot %c", slot_name(st->active), slot_name(o));
    *st = (SlotState){o, st->last_good == o ? o : SLOT_NONE, 0};
  } else if (st->active != st->last_good && st->attempts >= SLOT_TRIAL_BOOTS_MAX && st->last_good != SLOT_NONE) {
    why(b, "slot %c did not reach online in %u boot%s: falling back to last good slot %c", slot_name(st->active),
        (unsigned)st->attempts, st->attempts == 1 ? "" : "s", slot_name(st->last_good));
    *st = (SlotState){st->last_good, st->last_good, 0};
  } else if (st->active == st->last_good) {
    why(b, "booting last good slot %c", slot_name(st->active));
  } else if (st->last_good == SLOT_NONE) {
    why(b, "%s%strying slot %c (no slot is known good yet; boot %u)", because, because[0] ? "; " : "", slot_name(st->active),
        (unsigned)st->attempts + 1);
  } else {
    why(b, "trying slot %c (boot %u of %u before falling back to slot %c)", slot_name(st->active), (unsigned)st->attempts + 1,
        SLOT_TRIAL_BOOTS_MAX, slot_name(st->last_good));
  }
  b->slot = st->active;
  b->trial = st->active != st->last_good;
  /* The attempt is on record before the image runs: a crash or hang from here counts against it. */
  if (b->trial && st->attempts < SLOT_ATTEMPTS_MAX) st->attempts++;
  return persist(store, st, err, err_len);
}

int slots_refused(const SlotStore *store, SlotBoot *b, const char *reason, char *err, size_t err_len) {
  SlotId bad = b->slot;
  b->tried |= 1u << bad;
  SlotState *st = &b->state;
  SlotId next = st->last_good != SLOT_NONE && st->last_good != bad ? st->last_good : other(bad);
  if ((b->tried & (1u << next)) || !store->has_image(store->ctx, next))
    return fail(err, err_len, "slot %c refused (%s), and no other slot holds a bootable image", slot_name(bad), reason);
  if (next == st->last_good) {
    why(b, "slot %c refused (%s): falling back to last good slot %c", slot_name(bad), reason, slot_name(next));
    *st = (SlotState){next, next, 0};
    b->trial = 0;
  } else {
    /* The last good image itself is refused (or none is known): the other slot is all there is. */
    why(b, "slot %c refused (%s): trying slot %c", slot_name(bad), reason, slot_name(next));
    *st = (SlotState){next, SLOT_NONE, 1};
    b->trial = 1;
  }
  b->slot = next;
  return persist(store, st, err, err_len);
}

int slots_confirm(const SlotStore *store, SlotBoot *b, char *err, size_t err_len) {
  SlotState *st = &b->state;
  if (st->active == b->slot && st->last_good == b->slot && st->attempts == 0) return 0;
  *st = (SlotState){b->slot, b->slot, 0};
  b->trial = 0;
  return persist(store, st, err, err_len);
}

SlotId slots_update_target(SlotId running) { return running == SLOT_NONE ? SLOT_NONE : other(running); }

int slots_mark_trial(const SlotStore *store, SlotId slot, SlotId fallback, char *err, size_t err_len) {
  if (slot != SLOT_A && slot != SLOT_B) return fail(err, err_len, "mark for trial: no slot named");
  if (slot == fallback) return fail(err, err_len, "mark for trial: slot %c is the fallback itself", slot_name(slot));
  SlotState st = {slot, fallback, 0};
  return persist(store, &st, err, err_len);
}
