/* cohc: compiles one ES module bundle to a .qbc file for this exact engine build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_id.h"
#include "qbc.h"
#include "quickjs.h"

/* Largest bundle source we compile; a task bundle is a few hundred KiB at most. */
#define COHC_SOURCE_BYTES_MAX (8u << 20)

static void usage(FILE *f) {
  fprintf(f,
          "usage: cohc [--strip-debug] [--keep-source] -o <out.qbc> <bundle.js>\n"
          "       cohc --check <file.qbc>      check a .qbc against this engine build\n"
          "       cohc --fingerprint           print this engine build's fingerprint (64 hex)\n"
          "       cohc --describe              print what the fingerprint hashes\n"
          "\n"
          "Default output strips the source text but keeps line numbers for stack traces;\n"
          "--strip-debug drops those too, --keep-source keeps the source.\n");
}

static unsigned char *read_file(const char *path, size_t *len, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cohc: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  unsigned char *buf = malloc(max + 1);
  size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    fprintf(stderr, "cohc: cannot read %s\n", path);
    free(buf);
    return NULL;
  }
  if (n > max) {
    fprintf(stderr, "cohc: %s is larger than %zu bytes\n", path, max);
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

/* Writes to <path>.tmp then renames, so a failed run never leaves half a .qbc behind. */
static int write_atomic(const char *path, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    fprintf(stderr, "cohc: output path too long\n");
    return -1;
  }
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    fprintf(stderr, "cohc: cannot create %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  int ok = fwrite(a, 1, alen, f) == alen && fwrite(b, 1, blen, f) == blen;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "cohc: cannot write %s: %s\n", path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

static void print_exception(JSContext *ctx, const char *input) {
  JSValue exc = JS_GetException(ctx);
  const char *msg = JS_ToCString(ctx, exc);
  fprintf(stderr, "cohc: %s: %s\n", input, msg ? msg : "(unprintable exception)");
  if (msg) JS_FreeCString(ctx, msg);
  JS_FreeValue(ctx, exc);
}

static int compile(const char *input, const char *output, int flags_qbc) {
  size_t len;
  unsigned char *src = read_file(input, &len, COHC_SOURCE_BYTES_MAX);
  if (!src) return 1;
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx = rt ? JS_NewContext(rt) : NULL;
  if (!ctx) {
    fprintf(stderr, "cohc: cannot create an engine context\n");
    free(src);
    return 1;
  }
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  JSValue obj = JS_Eval(ctx, (const char *)src, len, base, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  free(src);
  int rc = 1;
  if (JS_IsException(obj)) {
    print_exception(ctx, input);
    goto out;
  }
  int wflags = JS_WRITE_OBJ_BYTECODE;
  if (!(flags_qbc & 0x100)) wflags |= JS_WRITE_OBJ_STRIP_SOURCE; /* 0x100: --keep-source */
  if (flags_qbc & QBC_FLAG_STRIP_DEBUG) wflags |= JS_WRITE_OBJ_STRIP_DEBUG;
  size_t out_len = 0;
  uint8_t *out = JS_WriteObject(ctx, &out_len, obj, wflags);
  JS_FreeValue(ctx, obj);
  if (!out) {
    print_exception(ctx, input);
    goto out;
  }
  if (out_len > QBC_PAYLOAD_BYTES_MAX) {
    fprintf(stderr, "cohc: %s: bytecode of %zu bytes is over the %u-byte bound\n", input, out_len, QBC_PAYLOAD_BYTES_MAX);
  } else {
    uint8_t header[QBC_HEADER_BYTES];
    qbc_write_header(header, (uint16_t)(flags_qbc & QBC_FLAGS_KNOWN), engine_id(), out, out_len);
    rc = write_atomic(output, header, sizeof header, out, out_len) == 0 ? 0 : 1;
  }
  js_free(ctx, out);
out:
  JS_FreeContext(ctx);
  JS_FreeRuntime(rt);
  return rc;
}

static int check(const char *path) {
  size_t len;
  unsigned char *buf = read_file(path, &len, QBC_HEADER_BYTES + QBC_PAYLOAD_BYTES_MAX);
  if (!buf) return 1;
  QbcFile q;
  QbcError e = qbc_parse(buf, len, engine_id(), &q);
  free(buf);
  if (e != QBC_OK) {
    fprintf(stderr, "cohc: %s: refused: %s\n", path, qbc_error_text(e));
    return 1;
  }
  printf("%s: ok (%zu bytes of bytecode, engine %s)\n", path, q.payload_bytes, q.engine_version);
  return 0;
}

int main(int argc, char **argv) {
  const char *output = NULL, *input = NULL;
  int flags = QBC_FLAG_STRIP_SOURCE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--fingerprint")) {
      printf("%s\n", engine_id()->fingerprint_hex);
      return 0;
    } else if (!strcmp(a, "--describe")) {
      printf("%s\n", engine_build_description());
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("cohc for quickjs-ng %s\n", engine_id()->version);
      return 0;
    } else if (!strcmp(a, "--check") && i + 1 < argc) {
      return check(argv[i + 1]);
    } else if (!strcmp(a, "--strip-debug")) {
      flags |= QBC_FLAG_STRIP_DEBUG;
    } else if (!strcmp(a, "--keep-source")) {
      flags = (flags & ~QBC_FLAG_STRIP_SOURCE) | 0x100;
    } else if (!strcmp(a, "-o") && i + 1 < argc) {
      output = argv[++i];
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-' || input) {
      fprintf(stderr, "cohc: unexpected argument '%s'\n", a);
      usage(stderr);
      return 2;
    } else {
      input = a;
    }
  }
  if (!input || !output) {
    usage(stderr);
    return 2;
  }
  return compile(input, output, flags);
}
