// Bounds every caps provider enforces; kept in sync with bindings/limits.h (checked by host/node/limits.test.ts).

/** Messages waiting in one task's channel inbox before send() throws Busy. */
export const CHANNEL_QUEUE_DEPTH_MAX = 64;
/** Largest channel message: one Secure9P frame at the maximum msize (8192) plus a 64-byte routing header. */
export const CHANNEL_MESSAGE_BYTES_MAX = 8256;
/** Bytes waiting in one task's channel inbox before send() throws Busy. */
export const CHANNEL_INBOX_BYTES_MAX = 65536;
/** Channel endpoints one task may hold. */
export const CHANNEL_ENDPOINTS_MAX = 40;
/** Open sockets (accepted connections) in the whole firmware. */
export const NET_SOCKETS_MAX = 64;
/** Listening sockets in the whole firmware. */
export const NET_LISTENERS_MAX = 8;
/** Bytes queued for sending on one socket before write() throws Busy. */
export const NET_SEND_BUFFER_BYTES_MAX = 65536;
/** Largest chunk delivered to onData at once. */
export const NET_READ_CHUNK_BYTES = 4096;
/** Live timers per task. */
export const TIMERS_PER_TASK_MAX = 64;
/** Tasks alive at once, root-task included. */
export const TASKS_MAX = 32;
/** A log line is cut to this many bytes. */
export const LOG_LINE_BYTES_MAX = 512;
/** Bytes one console.write() may carry. */
export const CONSOLE_WRITE_BYTES_MAX = 4096;
/** Largest .qbc file a hot reload takes (dev images). */
export const RELOAD_BYTECODE_BYTES_MAX = 1048576;
/** Largest snapshot() JSON text carried from the old code to the new on a hot reload. */
export const RELOAD_SNAPSHOT_BYTES_MAX = 1048576;
