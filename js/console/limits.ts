// Console bounds (spec §2, §3, §15, §16): every queue, buffer, timer and argument limit, with its unit.
//
// Keep in sync with: spec/INTERFACES.md §16, and the reference cohsh (it enforces the same
// argument limits client-side, so a drift shows up as a client/server disagreement).

/** Frame header: a u32 LE total length that counts these 4 bytes too. */
export const FRAME_HEADER_BYTES = 4;
/** Smallest declared frame length: a header and an empty payload. */
export const FRAME_DECLARED_BYTES_MIN = 4;
/** Largest declared frame length either side accepts (header included). */
export const FRAME_DECLARED_BYTES_MAX = 8192;
/** Largest request payload the server takes: one console line. */
export const FRAME_REQUEST_PAYLOAD_BYTES_MAX = 256;
/** Largest payload a client takes (and the server may send): the declared bound less the header. */
export const FRAME_REPLY_PAYLOAD_BYTES_MAX = FRAME_DECLARED_BYTES_MAX - FRAME_HEADER_BYTES;

/** One console line, in UTF-8 bytes, without its newline (TCP and UART). */
export const CONSOLE_LINE_BYTES_MAX = 256;
/** `attach` role label, in UTF-8 bytes. */
export const ROLE_BYTES_MAX = 16;
/** `attach` ticket, in UTF-8 bytes (spec §3.1; tokens are ASCII, so also characters). */
export const TICKET_BYTES_MAX = 224;
/** `tail`/`cat`/`ls`/`echo` path, in UTF-8 bytes. */
export const PATH_BYTES_MAX = 96;
/** `spawn` JSON, in UTF-8 bytes. */
export const SPAWN_JSON_BYTES_MAX = 192;
/** `kill` worker id, in UTF-8 bytes. */
export const WORKER_ID_BYTES_MAX = 32;
/** `echo` payload, in UTF-8 bytes. */
export const ECHO_PAYLOAD_BYTES_MAX = 128;
/** `cachelog` line count when none is given. */
export const CACHELOG_DEFAULT_LINES = 64;
/** `cachelog` argument is a u16. */
export const CACHELOG_LINES_MAX = 0xffff;

/** Content lines one console stream may carry before it is refused as buffer-full. */
export const STREAM_LINES_MAX = 64;
/** `LOG`: newest queen.log lines streamed. */
export const LOG_LINES_MAX = 64;
/** `CAT` digest: lines longer than this are not candidates, in UTF-8 bytes. */
export const CAT_DIGEST_LINE_BYTES_MAX = 64;
/** `CAT` `data=` detail, in UTF-8 bytes. */
export const CAT_DIGEST_BYTES_MAX = 128;

/** Time a new TCP connection has to authenticate, in ms. */
export const AUTH_DEADLINE_MS = 5_000;
/** An authenticated TCP session with no input for longer than this is closed, in ms. */
export const IDLE_TIMEOUT_MS = 300_000;
/** Bounds on the manifest's `console.idle_timeout_ms` (our knob; the spec's 300 s is the default). */
export const IDLE_TIMEOUT_MS_MIN = 1_000;
export const IDLE_TIMEOUT_MS_MAX = 3_600_000;

/** ATTACH throttle after a failure: base × 2^n, n = earlier failures since the last success. */
export const ATTACH_THROTTLE_BASE_MS = 250;
/** Cap on the throttle exponent n. */
export const ATTACH_THROTTLE_EXPONENT_MAX = 8;
/** Failures within this window count towards a cooldown, in ms. */
export const ATTACH_FAILURE_WINDOW_MS = 60_000;
/** This many failures within the window start a cooldown. */
export const ATTACH_FAILURES_BEFORE_COOLDOWN = 3;
/** Cooldown length, in ms: every ATTACH from the source is refused until it ends. */
export const ATTACH_COOLDOWN_MS = 90_000;
/** Attach guards kept (one per source: peer address or UART); the least recently used is dropped past this. */
export const ATTACH_GUARD_SOURCES_MAX = 64;

/**
 * Lines a session queues while a command is in flight (spec §15). TCP: when full the session stops
 * reading (back-pressure, nothing dropped); the UART, which cannot be paused, drops the oldest.
 */
export const INBOUND_QUEUE_LINES_MAX = 8;
/**
 * Received TCP bytes a session holds undecoded while its queue is full and its reads are paused:
 * what was already read when the pause was asked for (one read, or a few across the net-console
 * relay). A peer whose bytes still pass this is cut with `ERR FRAME reason=busy detail=backlog-full`.
 */
export const INBOUND_BACKLOG_BYTES_MAX = 65_536;
/** The TCP console's port when neither the firmware's arguments nor the manifest name one (spec §1 dev endpoints). */
export const CONSOLE_PORT_DEFAULT = 31337;
/** The AUTH token of dev images when the manifest names none (spec §2); release images name their own. */
export const CONSOLE_AUTH_TOKEN_DEV = 'changeme';
/** Concurrent TCP console sessions when the manifest says nothing (spec §0 item 2). */
export const CONSOLE_SESSIONS_DEFAULT = 4;
/** Hard cap on console.max_sessions, whatever the manifest says: each session holds buffers. */
export const CONSOLE_SESSIONS_HARD_MAX = 64;
/**
 * TCP connections still in AUTH, all sources together: a pool of their own, apart from
 * console.max_sessions, so unauthenticated peers cannot take an operator's slot (issue 13 bug 2).
 * Past it the oldest unauthenticated connection is evicted. Below NET_SOCKETS_MAX (64) less the
 * authenticated sessions, so the socket table still has room.
 */
export const AUTH_PENDING_SESSIONS_MAX = 16;
/** TCP connections still in AUTH from one source address; past it that source's oldest is evicted. */
export const AUTH_PENDING_PER_SOURCE_MAX = 4;
