/* The ONLINE signal: decides when the booted image counts as online and runs the platform's hook once. */
#include "online.h"

#include <string.h>

static OnlineHook g_hook;
static void *g_hook_ctx;
static int g_online;

void firmware_on_online(OnlineHook hook, void *ctx) {
  g_hook = hook;
  g_hook_ctx = ctx;
}

void firmware_mark_online(void) {
  if (g_online) return;
  g_online = 1;
  if (g_hook) g_hook(g_hook_ctx);
}

int firmware_is_online(void) { return g_online; }

void online_observe_log(int is_root_task, const char *line) {
  if (is_root_task && !strncmp(line, ONLINE_ROOT_TASK_LOG_PREFIX, sizeof ONLINE_ROOT_TASK_LOG_PREFIX - 1)) firmware_mark_online();
}
