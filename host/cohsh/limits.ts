// cohsh bounds (spec §4, §10.3, §16): retries, timers, script and history sizes, with their units.
//
// Keep in sync with: spec/INTERFACES.md §4.1 (defaults), §4.4 (scripts), §4.6 (self-test),
// §10.3 (telemetry push) and §16 (cohsh row). Wire argument limits come from js/console/limits.ts.

/** Reconnect attempts after a lost connection (§4.1 `--retry-max-attempts`). */
export const RETRY_MAX_ATTEMPTS_DEFAULT = 3;
/** First reconnect back-off, in ms; doubles each attempt (§4.1 `--retry-backoff-ms`). */
export const RETRY_BACKOFF_MS_DEFAULT = 200;
/** Back-off ceiling, in ms (§4.1 `--retry-ceiling-ms`). */
export const RETRY_CEILING_MS_DEFAULT = 2000;
/** Connect, AUTH and reply deadline, in ms (§4.1 `--retry-timeout-ms`). */
export const RETRY_TIMEOUT_MS_DEFAULT = 5000;
/** Silent PING after this much idle time, in ms (§4.1 `--heartbeat-interval-ms`). */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 15_000;
/** Largest value any of the retry/heartbeat flags may take, in ms: a typo must not mean "wait a day". */
export const TIMER_FLAG_MS_MAX = 600_000;
/** Largest `--retry-max-attempts`. */
export const RETRY_ATTEMPTS_MAX = 20;

/** Session pools (§4.1): accepted for compatibility, one console connection is used. */
export const POOL_CONTROL_SESSIONS_DEFAULT = 2;
export const POOL_TELEMETRY_SESSIONS_DEFAULT = 4;
export const POOL_SESSIONS_MAX = 16;

/** `tail -f` poll interval, in ms: default and bounds (§3.3, §16). */
export const TAIL_POLL_MS_DEFAULT = 1000;
export const TAIL_POLL_MS_MIN = 250;
export const TAIL_POLL_MS_MAX = 10_000;

/** Statements in one `.coh` script (§4.4). */
export const SCRIPT_STATEMENTS_MAX = 256;
/** `WAIT` bound, in ms (§4.4). */
export const SCRIPT_WAIT_MS_MAX = 2000;
/** Largest script file read, in bytes: 256 statements of one console line each, plus comments. */
export const SCRIPT_FILE_BYTES_MAX = 256 * 1024;
/** Path components a client-side path may have (§4.3). */
export const PATH_COMPONENTS_MAX = 8;
/** Bytes of the `{{msize_overflow}}` queen-ctl line: over the 8192-byte frame bound (§4.4). */
export const MSIZE_OVERFLOW_BYTES = 8192 + 64;
/** Largest line cohsh will put in one frame, in bytes: room for the overflow test, nothing bigger. */
export const SEND_LINE_BYTES_MAX = 16 * 1024;

/** Self-test timeout, in s: default and maximum (§4.6). */
export const SELFTEST_TIMEOUT_S_DEFAULT = 30;
export const SELFTEST_TIMEOUT_S_MAX = 120;

/** `telemetry push` source file, in bytes (§10.3 max_bytes_per_segment). */
export const TELEMETRY_SOURCE_BYTES_MAX = 32_768;
/** One pushed record, JSON line with its newline, in bytes (§10.3). */
export const TELEMETRY_RECORD_BYTES_MAX = 4096;

/** History lines kept in memory and in ~/.cohsh_history. */
export const HISTORY_LINES_MAX = 1000;
/** Largest history file read, in bytes. */
export const HISTORY_FILE_BYTES_MAX = 1024 * 1024;
/** Deadline for the `ls` a path completion issues, in ms: Tab must never hang the prompt. */
export const COMPLETION_LS_TIMEOUT_MS = 1500;
/** Ticket config (TOML) read, in bytes. */
export const TICKET_CONFIG_BYTES_MAX = 256 * 1024;
/** Unrelated lines a collector skips while it waits for its ACK or END before giving up. */
export const COLLECTOR_SKIPPED_LINES_MAX = 4096;
/** Lines buffered from the console while nobody reads them (between commands); oldest dropped past this. */
export const INBOX_LINES_MAX = 1024;
/** `tcp-diag` connect deadline, in ms. */
export const TCP_DIAG_TIMEOUT_MS = 3000;
