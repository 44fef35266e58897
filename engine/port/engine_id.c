/* Computes this engine build's identity; bytecode from any other build is refused at load. */
#include "engine_id.h"

#include <stdio.h>
#include <string.h>

#include "quickjs.h"
#include "sha256.h"

/* Set by engine/CMakeLists.txt from the pinned drop and the flags it is built with. */
#ifndef ENGINE_BC_VERSION
#error "ENGINE_BC_VERSION must come from the build (quickjs.c's BC_VERSION)"
#endif
#ifndef ENGINE_CONFIG_DEFINES
#error "ENGINE_CONFIG_DEFINES must come from the build (the engine's compile definitions)"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static EngineId g_id;
static char g_description[512];
static int g_ready;

const char *engine_build_description(void) {
  if (!g_description[0]) {
    const uint16_t probe = 1;
    snprintf(g_description, sizeof g_description, "quickjs-ng/%s;bc=%s;defines=%s;ptr=%u;%s", JS_GetVersion(),
             STR(ENGINE_BC_VERSION), ENGINE_CONFIG_DEFINES, (unsigned)(sizeof(void *) * 8u),
             (*(const uint8_t *)&probe == 1) ? "le" : "be");
  }
  return g_description;
}

const EngineId *engine_id(void) {
  if (!g_ready) {
    const char *d = engine_build_description();
    snprintf(g_id.version, sizeof g_id.version, "%s", JS_GetVersion());
    sha256(d, strlen(d), g_id.fingerprint);
    sha256_hex(g_id.fingerprint, g_id.fingerprint_hex);
    g_ready = 1;
  }
  return &g_id;
}
