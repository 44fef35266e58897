/* The ONLINE signal: the one place that decides when a booted image counts as online (A/B slots confirm on it). */
#ifndef COHESIX_FIRMWARE_ONLINE_H
#define COHESIX_FIRMWARE_ONLINE_H

/* For now an image is online when root-task logs a line starting with this (js/root-task/tcp-console.ts
   logs "console ready port=N" once its TCP console listens). When the root-task lifecycle grows its
   ONLINE state, a native calls firmware_mark_online() directly and online_observe_log goes away. */
#define ONLINE_ROOT_TASK_LOG_PREFIX "console ready"

typedef void (*OnlineHook)(void *ctx);

/* The platform registers what to do once the image is online (e.g. confirm its slot). */
void firmware_on_online(OnlineHook hook, void *ctx);
/* Marks the booted image online; the hook runs once, on the first call. */
void firmware_mark_online(void);
int firmware_is_online(void);
/* Called by the log capability for every line a task writes; is_root_task says who wrote it. */
void online_observe_log(int is_root_task, const char *line);

#endif
