/* The `update` capability: an over-the-air hive image staged into the inactive A/B slot, verified on the device, marked for trial, then a restart into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal.h"
#include "image.h"
#include "sha256.h"
#include "task_table.h"

/* Largest image an update stages: what boot accepts (firmware/image.h), kept in sync with
   js/root-task/update.ts UPDATE_IMAGE_BYTES_MAX (host/node/limits.test.ts checks it). */
#define UPDATE_IMAGE_BYTES_MAX IMAGE_BYTES_MAX
/* Largest write() one call takes: a console DATA line carries 168 bytes; this leaves room for other carriers. */
#define UPDATE_WRITE_BYTES_MAX 4096u
#define UPDATE_ERROR_BYTES_MAX 400u

/* One staged update, platform-wide: it outlives the console session that began it, so a dropped
   connection resumes from `received` (begin with the same size and digest). */
static struct {
  int staged;
  SlotId slot;
  uint32_t bytes;
  uint32_t received;
  uint8_t digest[SHA256_DIGEST_BYTES];
  int installed; /* committed: the slot holds it and the record says try it; only restart() remains */
} g_up;

static const char *slot_str(SlotId s) { return s == SLOT_A ? "A" : s == SLOT_B ? "B" : NULL; }

static JSValue str_or_null(JSContext *ctx, const char *s) { return s ? JS_NewString(ctx, s) : JS_NULL; }

static int parse_digest(const char *hex, uint8_t out[SHA256_DIGEST_BYTES]) {
  if (strlen(hex) != 2 * SHA256_DIGEST_BYTES) return -1;
  for (unsigned i = 0; i < SHA256_DIGEST_BYTES; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

static JSValue js_update_status(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  SlotId running = hal_slots_booted();
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, o, "slots", JS_NewBool(ctx, running != SLOT_NONE));
  JS_SetPropertyStr(ctx, o, "running", str_or_null(ctx, slot_str(running)));
  JS_SetPropertyStr(ctx, o, "target", str_or_null(ctx, slot_str(slots_update_target(running))));
  JS_SetPropertyStr(ctx, o, "bytesMax", JS_NewInt64(ctx, UPDATE_IMAGE_BYTES_MAX));
  JS_SetPropertyStr(ctx, o, "installed", JS_NewBool(ctx, g_up.installed));
  if (g_up.staged) {
    char hex[SHA256_HEX_BYTES];
    sha256_hex(g_up.digest, hex);
    JSValue s = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, s, "bytes", JS_NewInt64(ctx, g_up.bytes));
    JS_SetPropertyStr(ctx, s, "received", JS_NewInt64(ctx, g_up.received));
    JS_SetPropertyStr(ctx, s, "digest", JS_NewString(ctx, hex));
    JS_SetPropertyStr(ctx, o, "staged", s);
  } else {
    JS_SetPropertyStr(ctx, o, "staged", JS_NULL);
  }
  return o;
}

static JSValue js_update_begin(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  SlotId running = hal_slots_booted();
  if (running == SLOT_NONE) return cap_throw(ctx, CAP_UPDATE, "NotFound", "this firmware did not boot from A/B slots");
  if (g_up.installed) return cap_throw(ctx, CAP_UPDATE, "Busy", "an update is installed and the restart into it is pending");
  uint32_t bytes;
  if (JS_ToUint32(ctx, &bytes, argv[0]) < 0) return JS_EXCEPTION;
  if (bytes == 0) return cap_throw(ctx, CAP_UPDATE, "Invalid", "an image of 0 bytes");
  if (bytes > UPDATE_IMAGE_BYTES_MAX)
    return cap_throw(ctx, CAP_UPDATE, "TooBig", "%u bytes, over the %u an image may have", (unsigned)bytes, UPDATE_IMAGE_BYTES_MAX);
  const char *hex = JS_ToCString(ctx, argv[1]);
  if (!hex) return JS_EXCEPTION;
  uint8_t digest[SHA256_DIGEST_BYTES];
  int bad = parse_digest(hex, digest);
  JS_FreeCString(ctx, hex);
  if (bad) return cap_throw(ctx, CAP_UPDATE, "Invalid", "the digest is not 64 hex digits");
  SlotId target = slots_update_target(running);
  int resumed = g_up.staged && g_up.bytes == bytes && !memcmp(g_up.digest, digest, sizeof digest);
  if (!resumed) {
    char err[UPDATE_ERROR_BYTES_MAX];
    g_up.staged = 0;
    if (hal_slot_stage_open(target, bytes, err, sizeof err) < 0) return cap_throw(ctx, CAP_UPDATE, "Io", "%s", err);
    g_up = (typeof(g_up)){.staged = 1, .slot = target, .bytes = bytes, .received = 0};
    memcpy(g_up.digest, digest, sizeof digest);
  }
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, o, "slot", JS_NewString(ctx, slot_str(target)));
  JS_SetPropertyStr(ctx, o, "offset", JS_NewInt64(ctx, g_up.received));
  JS_SetPropertyStr(ctx, o, "resumed", JS_NewBool(ctx, resumed));
  return o;
}

static JSValue js_update_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  if (!g_up.staged) return cap_throw(ctx, CAP_UPDATE, "NotFound", "no update is staged");
  uint32_t offset;
  if (JS_ToUint32(ctx, &offset, argv[0]) < 0) return JS_EXCEPTION;
  size_t len = 0;
  const uint8_t *data = JS_GetUint8Array(ctx, &len, argv[1]);
  if (!data) return JS_EXCEPTION;
  if (len == 0 || len > UPDATE_WRITE_BYTES_MAX) return cap_throw(ctx, CAP_UPDATE, "TooBig", "a write is 1..%u bytes", UPDATE_WRITE_BYTES_MAX);
  /* In order, no gaps: the staged bytes are then exactly [0, received), which is what resuming relies on. */
  if (offset != g_up.received) return cap_throw(ctx, CAP_UPDATE, "Invalid", "out of order: expected offset %u", (unsigned)g_up.received);
  if ((uint64_t)offset + len > g_up.bytes) return cap_throw(ctx, CAP_UPDATE, "TooBig", "past the %u bytes announced", (unsigned)g_up.bytes);
  char err[UPDATE_ERROR_BYTES_MAX];
  if (hal_slot_stage_write(offset, data, len, err, sizeof err) < 0) return cap_throw(ctx, CAP_UPDATE, "Io", "%s", err);
  g_up.received += (uint32_t)len;
  return JS_NewInt64(ctx, g_up.received);
}

static JSValue refused(JSContext *ctx, const char *tag, const char *error) {
  /* The staged bytes go: the next attempt starts afresh rather than resuming a rejected image. */
  hal_slot_stage_drop();
  g_up.staged = 0;
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, o, "refused", JS_NewString(ctx, tag));
  JS_SetPropertyStr(ctx, o, "error", JS_NewString(ctx, error));
  return o;
}

/* Reads what the device holds back, checks its SHA-256 and verifies it as boot would, then installs it
   into the slot and marks that slot for trial. A refusal leaves the slots and the state record untouched. */
static JSValue js_update_commit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  if (!g_up.staged) return cap_throw(ctx, CAP_UPDATE, "NotFound", "no update is staged");
  char err[UPDATE_ERROR_BYTES_MAX], msg[UPDATE_ERROR_BYTES_MAX + 64];
  if (g_up.received != g_up.bytes) {
    snprintf(msg, sizeof msg, "received %u of %u bytes", (unsigned)g_up.received, (unsigned)g_up.bytes);
    /* Truncated: kept staged, so the sender may still resume and send the rest. */
    JSValue o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, o, "refused", JS_NewString(ctx, "incomplete"));
    JS_SetPropertyStr(ctx, o, "error", JS_NewString(ctx, msg));
    return o;
  }
  /* Outside every task's arena: an image may be far larger than root-task's quota. Freed before return. */
  uint8_t *buf = malloc(g_up.bytes);
  if (!buf) return cap_throw(ctx, CAP_UPDATE, "Busy", "no memory to read %u bytes back", (unsigned)g_up.bytes);
  if (hal_slot_stage_read(0, buf, g_up.bytes, err, sizeof err) < 0) {
    free(buf);
    return refused(ctx, "io", err);
  }
  uint8_t d[SHA256_DIGEST_BYTES];
  sha256(buf, g_up.bytes, d);
  if (memcmp(d, g_up.digest, sizeof d) != 0) {
    free(buf);
    return refused(ctx, "hash-mismatch", "the bytes received do not have the announced SHA-256");
  }
  char image_id[MANIFEST_IMAGE_ID_BYTES_MAX + 1];
  int bad = fw_image_verify(buf, g_up.bytes, image_id, sizeof image_id, err, sizeof err);
  free(buf);
  if (bad) {
    fw_log("firmware", "update refused: %s; slot %c and the slot state are untouched", err, slot_name(g_up.slot));
    return refused(ctx, image_refusal_tag(err), err);
  }
  if (hal_slot_stage_install(err, sizeof err) < 0) return refused(ctx, "io", err);
  g_up.staged = 0;
  const SlotStore *store = hal_slots_store();
  SlotId running = hal_slots_booted();
  if (slots_mark_trial(store, g_up.slot, running, err, sizeof err) < 0) return refused(ctx, "io", err);
  g_up.installed = 1;
  fw_log("firmware", "update: image %s installed in slot %c, on trial at the next boot (falls back to slot %c)", image_id,
         slot_name(g_up.slot), slot_name(running));
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, o, "slot", JS_NewString(ctx, slot_str(g_up.slot)));
  JS_SetPropertyStr(ctx, o, "imageId", JS_NewString(ctx, image_id));
  return o;
}

static JSValue js_update_abort(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  if (g_up.staged) hal_slot_stage_drop();
  g_up.staged = 0;
  return JS_UNDEFINED;
}

static JSValue js_update_restart(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_UPDATE) < 0) return JS_EXCEPTION;
  if (!g_up.installed) return cap_throw(ctx, CAP_UPDATE, "NotFound", "no update is installed");
  fw_log("firmware", "update: restarting into slot %c", slot_name(g_up.slot));
  hal_restart();
  return JS_UNDEFINED;
}

static const JSCFunctionListEntry update_funcs[] = {
    JS_CFUNC_DEF("status", 0, js_update_status), JS_CFUNC_DEF("begin", 2, js_update_begin),
    JS_CFUNC_DEF("write", 2, js_update_write),   JS_CFUNC_DEF("commit", 0, js_update_commit),
    JS_CFUNC_DEF("abort", 0, js_update_abort),   JS_CFUNC_DEF("restart", 0, js_update_restart),
};

static JSValue update_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, update_funcs, sizeof update_funcs / sizeof update_funcs[0]);
  return o;
}

const CapRegistration cap_update_registration = {.name = "update", .build = update_build};
