/* Parses manifest.json with a throwaway engine runtime (no bytecode runs) and checks every field. */
#include "manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware.h"
#include "quickjs.h"
#include "task.h"

typedef struct Parse {
  JSContext *ctx;
  char *err;
  size_t err_len;
} Parse;

/* " log console net ...": every registered capability's name, for the refusal of an unknown grant. */
static const char *cap_names_text(void) {
  /* Bounded: CAP_COUNT names of at most MANIFEST_NAME_BYTES_MAX bytes each, one space before each. */
  static char text[CAP_COUNT * (MANIFEST_NAME_BYTES_MAX + 1u) + 1u];
  size_t at = 0;
  for (unsigned c = 0; c < CAP_COUNT; c++) {
    int n = snprintf(text + at, sizeof text - at, " %s", cap_name((CapId)c));
    if (n < 0 || (size_t)n >= sizeof text - at) break;
    at += (size_t)n;
  }
  return text;
}

static int fail(Parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Parse *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(p->err, p->err_len, "manifest: ");
  vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Copies a string property into out (bounded); -1 if missing, not a string or too long. */
static int get_string(Parse *p, JSValueConst obj, const char *key, const char *where, char *out, size_t cap) {
  JSValue v = JS_GetPropertyStr(p->ctx, obj, key);
  int rc = -1;
  if (JS_IsString(v)) {
    size_t len;
    const char *s = JS_ToCStringLen(p->ctx, &len, v);
    if (s && len > 0 && len < cap && strlen(s) == len) {
      memcpy(out, s, len + 1);
      rc = 0;
    }
    if (s) JS_FreeCString(p->ctx, s);
  }
  JS_FreeValue(p->ctx, v);
  if (rc < 0) fail(p, "%s%s must be a string of 1..%zu bytes", where, key, cap - 1);
  return rc;
}

static int get_uint(Parse *p, JSValueConst obj, const char *key, const char *where, uint64_t min, uint64_t max, uint64_t *out) {
  JSValue v = JS_GetPropertyStr(p->ctx, obj, key);
  int rc = -1;
  if (JS_IsNumber(v)) {
    double d;
    JS_ToFloat64(p->ctx, &d, v);
    if (d >= (double)min && d <= (double)max && d == (double)(uint64_t)d) {
      *out = (uint64_t)d;
      rc = 0;
    }
  }
  JS_FreeValue(p->ctx, v);
  if (rc < 0) fail(p, "%s%s must be an integer in %llu..%llu", where, key, (unsigned long long)min, (unsigned long long)max);
  return rc;
}

static int parse_hex32(const char *hex, uint8_t out[SHA256_DIGEST_BYTES]) {
  if (strlen(hex) != 2u * SHA256_DIGEST_BYTES) return -1;
  for (unsigned i = 0; i < SHA256_DIGEST_BYTES; i++) {
    unsigned v = 0;
    for (unsigned k = 0; k < 2; k++) {
      char c = hex[i * 2 + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
      else return -1;
    }
    out[i] = (uint8_t)v;
  }
  return 0;
}

static int valid_task_name(const char *s) {
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) return 0;
  return s[0] != 0;
}

static int parse_task(Parse *p, JSValueConst t, unsigned i, ManifestTask *mt) {
  char where[48];
  snprintf(where, sizeof where, "tasks[%u].", i);
  char hex[SHA256_HEX_BYTES];
  uint64_t v;
  if (get_string(p, t, "name", where, mt->name, sizeof mt->name) < 0) return -1;
  if (!valid_task_name(mt->name)) return fail(p, "%sname must be [a-z0-9-]", where);
  if (get_string(p, t, "bundle", where, mt->bundle, sizeof mt->bundle) < 0) return -1;
  if (get_uint(p, t, "size", where, 1, MANIFEST_BUNDLE_SIZE_BYTES_MAX, &v) < 0) return -1;
  mt->size = (size_t)v;
  if (get_string(p, t, "sha256", where, hex, sizeof hex) < 0 || parse_hex32(hex, mt->sha256) < 0)
    return fail(p, "%ssha256 must be 64 lowercase hex digits", where);
  if (get_uint(p, t, "arena_bytes", where, TASK_ARENA_BYTES_MIN, TASK_ARENA_BYTES_MAX, &v) < 0) return -1;
  if (v % TASK_ARENA_PAGE_BYTES) return fail(p, "%sarena_bytes must be a multiple of %u", where, TASK_ARENA_PAGE_BYTES);
  mt->arena_bytes = (size_t)v;
  if (get_uint(p, t, "cpu_slice_ms", where, TASK_CPU_SLICE_MS_MIN, TASK_CPU_SLICE_MS_MAX, &v) < 0) return -1;
  mt->cpu_slice_ms = (uint32_t)v;
  JSValue grants = JS_GetPropertyStr(p->ctx, t, "grants");
  int64_t n = -1;
  if (JS_IsArray(grants)) JS_GetLength(p->ctx, grants, &n);
  if (n < 0 || n > CAP_COUNT) {
    JS_FreeValue(p->ctx, grants);
    return fail(p, "%sgrants must be a list of at most %d capability names", where, CAP_COUNT);
  }
  mt->grants = 0;
  for (int64_t k = 0; k < n; k++) {
    JSValue g = JS_GetPropertyUint32(p->ctx, grants, (uint32_t)k);
    const char *s = JS_IsString(g) ? JS_ToCString(p->ctx, g) : NULL;
    CapId cap;
    int ok = s && cap_parse(s, &cap) == 0;
    if (ok) mt->grants |= 1u << cap;
    else fail(p, "%sgrants[%lld] is not one of%s", where, (long long)k, cap_names_text());
    if (s) JS_FreeCString(p->ctx, s);
    JS_FreeValue(p->ctx, g);
    if (!ok) {
      JS_FreeValue(p->ctx, grants);
      return -1;
    }
  }
  JS_FreeValue(p->ctx, grants);
  JSValue config = JS_GetPropertyStr(p->ctx, t, "config");
  JSValue text = JS_IsUndefined(config) ? JS_UNDEFINED : JS_JSONStringify(p->ctx, config, JS_UNDEFINED, JS_UNDEFINED);
  const char *s = JS_IsString(text) ? JS_ToCString(p->ctx, text) : NULL;
  mt->config_json = strdup(s ? s : "null");
  if (s) JS_FreeCString(p->ctx, s);
  JS_FreeValue(p->ctx, text);
  JS_FreeValue(p->ctx, config);
  return mt->config_json ? 0 : fail(p, "%sconfig: out of memory", where);
}

int manifest_parse(const char *json, size_t len, Manifest *m, char *err, size_t err_len) {
  memset(m, 0, sizeof *m);
  Parse p = {NULL, err, err_len};
  if (len > MANIFEST_JSON_BYTES_MAX) return fail(&p, "%zu bytes, over MANIFEST_JSON_BYTES_MAX (%u)", len, MANIFEST_JSON_BYTES_MAX);
  /* JS_ParseJSON reads until a NUL, not just len bytes, and an image entry is not NUL-terminated
     (when its size is a multiple of 4 the next CPIO header follows at once): parse a terminated copy,
     which image.manifest() also serves. */
  m->json = malloc(len + 1);
  if (!m->json) return fail(&p, "out of memory");
  memcpy(m->json, json, len);
  m->json[len] = 0;
  m->json_len = len;
  JSRuntime *rt = JS_NewRuntime();
  p.ctx = rt ? JS_NewContext(rt) : NULL;
  if (!p.ctx) {
    if (rt) JS_FreeRuntime(rt);
    manifest_free(m);
    return fail(&p, "cannot create a parser runtime");
  }
  int rc = -1;
  char schema[MANIFEST_SCHEMA_BYTES_MAX + 1], hex[SHA256_HEX_BYTES];
  JSValue root = JS_ParseJSON(p.ctx, m->json, len, "manifest.json");
  JSValue engine = JS_UNDEFINED, tasks = JS_UNDEFINED;
  if (JS_IsException(root) || !JS_IsObject(root)) {
    fail(&p, "not a JSON object");
    goto out;
  }
  if (get_string(&p, root, "schema", "", schema, sizeof schema) < 0) goto out;
  if (strcmp(schema, MANIFEST_SCHEMA) != 0) {
    fail(&p, "schema is '%s', this firmware reads '%s'", schema, MANIFEST_SCHEMA);
    goto out;
  }
  if (get_string(&p, root, "image_id", "", m->image_id, sizeof m->image_id) < 0) goto out;
  if (get_string(&p, root, "profile", "", m->profile, sizeof m->profile) < 0) goto out;
  if (strcmp(m->profile, "dev") && strcmp(m->profile, "release")) {
    fail(&p, "profile must be dev or release");
    goto out;
  }
  engine = JS_GetPropertyStr(p.ctx, root, "engine");
  if (!JS_IsObject(engine)) {
    fail(&p, "engine must be an object with version and fingerprint");
    goto out;
  }
  if (get_string(&p, engine, "version", "engine.", m->engine_version, sizeof m->engine_version) < 0) goto out;
  if (get_string(&p, engine, "fingerprint", "engine.", hex, sizeof hex) < 0 || parse_hex32(hex, m->engine_fingerprint) < 0) {
    fail(&p, "engine.fingerprint must be 64 lowercase hex digits");
    goto out;
  }
  if (get_string(&p, root, "root_task", "", m->root_task, sizeof m->root_task) < 0) goto out;
  tasks = JS_GetPropertyStr(p.ctx, root, "tasks");
  int64_t n = -1;
  if (JS_IsArray(tasks)) JS_GetLength(p.ctx, tasks, &n);
  if (n < 1 || n > (int64_t)MANIFEST_TASKS_MAX) {
    fail(&p, "tasks must be a list of 1..%u entries", MANIFEST_TASKS_MAX);
    goto out;
  }
  for (unsigned i = 0; i < (unsigned)n; i++) {
    JSValue t = JS_GetPropertyUint32(p.ctx, tasks, i);
    int r = JS_IsObject(t) ? parse_task(&p, t, i, &m->tasks[i]) : fail(&p, "tasks[%u] must be an object", i);
    JS_FreeValue(p.ctx, t);
    m->task_count = i + 1;
    if (r < 0) goto out;
    for (unsigned k = 0; k < i; k++)
      if (!strcmp(m->tasks[k].name, m->tasks[i].name) || !strcmp(m->tasks[k].bundle, m->tasks[i].bundle)) {
        fail(&p, "tasks[%u] repeats the name or bundle of tasks[%u]", i, k);
        goto out;
      }
  }
  if (!manifest_task(m, m->root_task)) {
    fail(&p, "root_task '%s' is not among tasks", m->root_task);
    goto out;
  }
  rc = 0;
out:
  JS_FreeValue(p.ctx, tasks);
  JS_FreeValue(p.ctx, engine);
  JS_FreeValue(p.ctx, root);
  JS_FreeContext(p.ctx);
  JS_FreeRuntime(rt);
  if (rc < 0) manifest_free(m);
  return rc;
}

const ManifestTask *manifest_task(const Manifest *m, const char *name) {
  for (unsigned i = 0; i < m->task_count; i++)
    if (!strcmp(m->tasks[i].name, name)) return &m->tasks[i];
  return NULL;
}

void manifest_free(Manifest *m) {
  for (unsigned i = 0; i < m->task_count; i++) free(m->tasks[i].config_json);
  free(m->json);
  m->json = NULL;
  m->task_count = 0;
}
