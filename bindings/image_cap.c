/* The `image` capability: read the verified boot image's manifest and entries (read-only); named apart from firmware/image.c, the verifier. */
#include "sha256.h"
#include "task_table.h"

static JSValue js_image_list(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_IMAGE) < 0) return JS_EXCEPTION;
  JSValue arr = JS_NewArray(ctx);
  const Manifest *m = fw_manifest();
  for (unsigned i = 0; i < m->task_count; i++) {
    char hex[SHA256_HEX_BYTES];
    sha256_hex(m->tasks[i].sha256, hex);
    JSValue e = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, e, "name", JS_NewString(ctx, m->tasks[i].bundle));
    JS_SetPropertyStr(ctx, e, "size", JS_NewInt64(ctx, (int64_t)m->tasks[i].size));
    JS_SetPropertyStr(ctx, e, "sha256", JS_NewString(ctx, hex));
    JS_SetPropertyUint32(ctx, arr, i, e);
  }
  return arr;
}

static JSValue js_image_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_IMAGE) < 0) return JS_EXCEPTION;
  const char *name = JS_ToCString(ctx, argv[0]);
  if (!name) return JS_EXCEPTION;
  size_t len = 0;
  const uint8_t *data = fw_image_entry(name, &len);
  JSValue r = data ? JS_NewUint8ArrayCopy(ctx, data, len) : cap_throw(ctx, CAP_IMAGE, "NotFound", "no image entry '%s'", name);
  JS_FreeCString(ctx, name);
  return r;
}

static JSValue js_image_manifest(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  if (cap_require(ctx, CAP_IMAGE) < 0) return JS_EXCEPTION;
  const Manifest *m = fw_manifest();
  return JS_ParseJSON(ctx, m->json, m->json_len, "manifest.json");
}

static const JSCFunctionListEntry image_funcs[] = {
    JS_CFUNC_DEF("list", 0, js_image_list),
    JS_CFUNC_DEF("read", 1, js_image_read),
    JS_CFUNC_DEF("manifest", 0, js_image_manifest),
};

static JSValue image_build(JSContext *ctx) {
  JSValue o = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, o, image_funcs, sizeof image_funcs / sizeof image_funcs[0]);
  return o;
}

const CapRegistration cap_image_registration = {.name = "image", .build = image_build};
