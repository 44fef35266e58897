/* Bounds every caps provider enforces; kept in sync with js/caps/limits.ts (checked by host/node/limits.test.ts). */
#ifndef COHESIX_BINDINGS_LIMITS_H
#define COHESIX_BINDINGS_LIMITS_H

/* Messages waiting in one task's channel inbox before send() throws Busy. */
#define CHANNEL_QUEUE_DEPTH_MAX 64
/* Largest channel message: one Secure9P frame at the maximum msize (8192) plus a 64-byte routing header. */
#define CHANNEL_MESSAGE_BYTES_MAX 8256
/* Bytes waiting in one task's channel inbox before send() throws Busy. */
#define CHANNEL_INBOX_BYTES_MAX 65536
/* Channel endpoints one task may hold. */
#define CHANNEL_ENDPOINTS_MAX 40
/* Open sockets (accepted connections) in the whole firmware. */
#define NET_SOCKETS_MAX 64
/* Listening sockets in the whole firmware. */
#define NET_LISTENERS_MAX 8
/* Bytes queued for sending on one socket before write() throws Busy. */
#define NET_SEND_BUFFER_BYTES_MAX 65536
/* Largest chunk delivered to onData at once. */
#define NET_READ_CHUNK_BYTES 4096
/* Live timers per task. */
#define TIMERS_PER_TASK_MAX 64
/* Tasks alive at once, root-task included. */
#define TASKS_MAX 32
/* A log line is cut to this many bytes. */
#define LOG_LINE_BYTES_MAX 512
/* Bytes one console.write() may carry. */
#define CONSOLE_WRITE_BYTES_MAX 4096

/* Largest .qbc file a hot reload takes (dev images). */
#define RELOAD_BYTECODE_BYTES_MAX 1048576
/* Largest snapshot() JSON text carried from the old code to the new on a hot reload. */
#define RELOAD_SNAPSHOT_BYTES_MAX 1048576

#endif
