/* libFuzzer target: the A/B slot state record (slot_state_decode) and the boot plan over it, in memory and through the host's files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slots.h"
#include "slots_posix.h"

typedef struct Mem {
  const uint8_t *rec;
  size_t len;
  unsigned images; /* bit (1 << slot) */
  char written[SLOT_STATE_BYTES_MAX + 1];
  size_t written_len;
} Mem;

static int mem_read(void *ctx, char *buf, size_t cap, size_t *len, char *err, size_t err_len) {
  Mem *m = ctx;
  size_t n = m->len < cap ? m->len : cap;
  memcpy(buf, m->rec, n);
  *len = n;
  return 0;
}

static int mem_write(void *ctx, const char *buf, size_t len, char *err, size_t err_len) {
  Mem *m = ctx;
  if (len > SLOT_STATE_BYTES_MAX) __builtin_trap();
  memcpy(m->written, buf, len);
  m->written_len = len;
  return 0;
}

static int mem_has(void *ctx, SlotId s) { return (((Mem *)ctx)->images >> s) & 1u; }

static void plan(const SlotStore *store, int refuse, int confirm) {
  SlotBoot b;
  char err[256];
  if (slots_plan(store, &b, err, sizeof err) < 0) return;
  if (b.slot != SLOT_A && b.slot != SLOT_B) __builtin_trap();
  if (refuse && slots_refused(store, &b, "fuzz", err, sizeof err) == 0 && b.slot != SLOT_A && b.slot != SLOT_B) __builtin_trap();
  if (confirm) slots_confirm(store, &b, err, sizeof err);
}

static char g_dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  SlotState st;
  char err[256];
  if (slot_state_decode((const char *)data, size, &st, err, sizeof err) == 0) {
    /* What decodes encodes to the same record (the firmware rewrites it on every boot). */
    char again[SLOT_STATE_BYTES_MAX + 1];
    size_t n = slot_state_encode(&st, again, sizeof again);
    SlotState st2;
    if (n == 0 || slot_state_decode(again, n, &st2, err, sizeof err) < 0 || memcmp(&st, &st2, sizeof st) != 0) __builtin_trap();
  }
  unsigned ctl = size > 0 ? data[size - 1] : 0;
  Mem m = {data, size, (ctl & 3u) << 1, "", 0};
  SlotStore store = {&m, mem_read, mem_write, mem_has};
  plan(&store, ctl & 4u, ctl & 8u);
  /* The same record as the host firmware's state file. */
  if (!g_dir[0]) {
    snprintf(g_dir, sizeof g_dir, "/tmp/cohesix-fuzz-slots-XXXXXX");
    if (!mkdtemp(g_dir)) return 0;
    char img[128];
    snprintf(img, sizeof img, "%s/A.img", g_dir);
    FILE *f = fopen(img, "w");
    if (f) fclose(f);
  }
  SlotsPosix p;
  SlotStore ps;
  if (slots_posix_init(&p, g_dir, &ps) < 0) return 0;
  char path[128];
  snprintf(path, sizeof path, "%s/%s", g_dir, SLOTS_STATE_FILE);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  plan(&ps, 0, ctl & 8u);
  return 0;
}
