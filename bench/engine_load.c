/* bench_engine_load: times loading one bundle from .qbc bytecode against parsing it from source, in fresh runtimes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hal.h"
#include "engine_id.h"
#include "qbc.h"
#include "quickjs.h"

/* Enough runs for a stable median of sub-millisecond loads; bounded so the bench stays short. */
#define BENCH_ITERATIONS_DEFAULT 200u
#define BENCH_ITERATIONS_MAX 100000u
/* Largest input read; a task bundle is a few hundred KiB at most (cohc's bound is 8 MiB). */
#define BENCH_FILE_BYTES_MAX (8u << 20)

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bench_engine_load: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  unsigned char *buf = malloc(BENCH_FILE_BYTES_MAX + 1);
  size_t n = buf ? fread(buf, 1, BENCH_FILE_BYTES_MAX + 1, f) : 0;
  fclose(f);
  if (!buf || n > BENCH_FILE_BYTES_MAX) {
    fprintf(stderr, "bench_engine_load: cannot read %s (or it is over %u bytes)\n", path, BENCH_FILE_BYTES_MAX);
    free(buf);
    return NULL;
  }
  buf[n] = 0; /* JS_Eval needs the source NUL-terminated */
  *len = n;
  return buf;
}

/* Checks the module evaluated and exports a default function, as the firmware's task loader does. */
static int module_ok(JSContext *ctx, JSValue obj_or_done, JSModuleDef *m) {
  if (JS_IsException(obj_or_done)) return 0;
  JS_FreeValue(ctx, obj_or_done);
  JSValue ns = JS_GetModuleNamespace(ctx, m);
  JSValue f = JS_GetPropertyStr(ctx, ns, "default");
  int ok = JS_IsFunction(ctx, f);
  JS_FreeValue(ctx, f);
  JS_FreeValue(ctx, ns);
  return ok;
}

/* The firmware's path (engine/port/task.c task_load_module): qbc check with its sha256, read, resolve, evaluate. */
static int load_bytecode(JSContext *ctx, const uint8_t *qbc, size_t len) {
  QbcFile q;
  if (qbc_parse(qbc, len, engine_id(), &q) != QBC_OK) return 0;
  JSValue obj = JS_ReadObject(ctx, q.payload, q.payload_bytes, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(obj) || JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE) return 0;
  JSModuleDef *m = JS_VALUE_GET_PTR(obj);
  if (JS_ResolveModule(ctx, obj) < 0) return 0;
  return module_ok(ctx, JS_EvalFunction(ctx, obj), m);
}

/* The same module from source: compile, then evaluate. */
static int load_source(JSContext *ctx, const char *src, size_t len, const char *name) {
  JSValue obj = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  if (JS_IsException(obj)) return 0;
  JSModuleDef *m = JS_VALUE_GET_PTR(obj);
  if (JS_ResolveModule(ctx, obj) < 0) return 0;
  return module_ok(ctx, JS_EvalFunction(ctx, obj), m);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Runs one path `iterations` times, each in a fresh runtime (not timed), and returns the median in µs. */
static int time_path(int bytecode, const unsigned char *buf, size_t len, const char *name, unsigned iterations,
                     uint64_t *samples, double *median_us) {
  for (unsigned i = 0; i < iterations; i++) {
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = rt ? JS_NewContext(rt) : NULL;
    if (!ctx) {
      fprintf(stderr, "bench_engine_load: cannot create a runtime\n");
      return -1;
    }
    uint64_t t0 = hal_clock_us();
    int ok = bytecode ? load_bytecode(ctx, buf, len) : load_source(ctx, (const char *)buf, len, name);
    samples[i] = hal_clock_us() - t0;
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    if (!ok) {
      fprintf(stderr, "bench_engine_load: %s did not load from %s\n", name, bytecode ? "bytecode" : "source");
      return -1;
    }
  }
  qsort(samples, iterations, sizeof *samples, cmp_u64);
  *median_us = iterations % 2 ? (double)samples[iterations / 2]
                              : (samples[iterations / 2 - 1] + samples[iterations / 2]) / 2.0;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: bench_engine_load <bundle.js> <bundle.qbc> [iterations (default %u)]\n",
            BENCH_ITERATIONS_DEFAULT);
    return 2;
  }
  unsigned iterations = BENCH_ITERATIONS_DEFAULT;
  if (argc == 4) {
    char *end;
    unsigned long n = strtoul(argv[3], &end, 10);
    if (*end || n == 0 || n > BENCH_ITERATIONS_MAX) {
      fprintf(stderr, "bench_engine_load: iterations must be 1..%u\n", BENCH_ITERATIONS_MAX);
      return 2;
    }
    iterations = (unsigned)n;
  }
  size_t src_len = 0, qbc_len = 0;
  unsigned char *src = read_file(argv[1], &src_len);
  unsigned char *qbc = src ? read_file(argv[2], &qbc_len) : NULL;
  uint64_t *samples = malloc(sizeof(uint64_t) * iterations);
  int rc = 1;
  double bc_us = 0, src_us = 0;
  if (src && qbc && samples && time_path(1, qbc, qbc_len, argv[1], iterations, samples, &bc_us) == 0 &&
      time_path(0, src, src_len, argv[1], iterations, samples, &src_us) == 0) {
    /* key=value lines: bench/firmware.py reads them. */
    printf("bundle=%s\nsource_bytes=%zu\nqbc_bytes=%zu\niterations=%u\n", argv[1], src_len, qbc_len, iterations);
    printf("bytecode_load_us_median=%.1f\nsource_load_us_median=%.1f\nspeedup=%.2f\n", bc_us, src_us,
           bc_us > 0 ? src_us / bc_us : 0.0);
    rc = 0;
  }
  free(samples);
  free(qbc);
  free(src);
  return rc;
}
