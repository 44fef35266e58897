// Root-task policy bounds and defaults (spec §7, §16): every table root-task keeps is capped here.
//
// Keep in sync with: js/ninedoor/limits.ts (WORKERS_MAX must stay above LIVE_WORKERS_MAX, so a
// fire-and-forget addWorker never fails on NineDoor's side), spec/INTERFACES.md §16.

/** Heartbeat spawn defaults (spec §7, §16). */
export const DEFAULT_BUDGET_TICKS = 1000;
export const DEFAULT_BUDGET_OPS = 10000;
export const DEFAULT_BUDGET_TTL_S = 300;
/** A GPU worker's ops budget is its lease's streams times this (spec §7). */
export const GPU_OPS_PER_STREAM = 8;

/** Live worker records root-task keeps; a spawn past it is Busy. The firmware task table holds 32 tasks. */
export const LIVE_WORKERS_MAX = 24;
/** The highest n in `worker-<n>`: ids are never reused, so a hive that burns them all refuses spawns. */
export const WORKER_SEQ_MAX = 0xffffffff;

/** Bytes of one /queen/ctl write root-task parses (NineDoor keeps 8192 raw bytes; a console line is 256). */
export const QUEEN_CTL_WRITE_BYTES_MAX = 8192;
/** Lines of one /queen/ctl write; the rest of a longer write is refused as Invalid. */
export const QUEEN_CTL_LINES_MAX = 64;

/** u8 / u32 / safe-integer ceilings for the JSON numbers of spec §7. */
export const U8_MAX = 0xff;
export const U32_MAX = 0xffffffff;
/** JSON numbers are doubles: a u64 above this cannot be read exactly, so it is refused (Invalid). */
export const U64_JSON_MAX = Number.MAX_SAFE_INTEGER;

/** Operator lines (console ECHO to /log/queen.log) kept for the CAT digest (spec §16). */
export const OPERATOR_LINES_MAX = 16;
/** Lines root-task itself logged, kept for `lastlog` when no other source is wired. */
export const RECENT_LOG_LINES_MAX = 64;
/** `lastlog` default and ceiling (the console LOG bound, spec §16). */
export const LASTLOG_LINES_DEFAULT = 16;
export const LASTLOG_LINES_MAX = 64;
/** `tasks` lines: the firmware task table's size. */
export const TASK_LINES_MAX = 32;
/** A lifecycle command word as echoed in a `lifecycle denied action=<cmd>` line. */
export const LIFECYCLE_ACTION_CHARS_MAX = 32;
/** Bytes of one `b64:` line a binary CAT streams (96 bytes → 128 characters). */
export const CAT_B64_CHUNK_BYTES = 96;
