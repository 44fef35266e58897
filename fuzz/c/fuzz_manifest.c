/* libFuzzer target: manifest_parse, the firmware's reading of manifest.json (schema, tasks, grants, quotas, config). */
#include <stdint.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Manifest m;
  char err[256] = "";
  if (manifest_parse((const char *)data, size, &m, err, sizeof err) == 0) {
    if (m.task_count == 0 || m.task_count > MANIFEST_TASKS_MAX) __builtin_trap();
    if (!manifest_task(&m, m.root_task)) __builtin_trap();
    for (unsigned i = 0; i < m.task_count; i++)
      if (memchr(m.tasks[i].name, 0, sizeof m.tasks[i].name) == NULL || !m.tasks[i].config_json) __builtin_trap();
    manifest_free(&m);
  } else if (memchr(err, 0, sizeof err) == NULL) {
    __builtin_trap();
  }
  return 0;
}
