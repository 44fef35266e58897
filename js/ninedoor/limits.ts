// NineDoor bounds (spec §6, §10, §11, §16): every store, table and line the namespace keeps is capped here.

/** Bits of the shard label; 8 gives labels 00..ff, all created at boot. */
export const SHARD_BITS = 8;
/** Bytes one worker's telemetry ring retains. */
export const RING_BYTES_PER_WORKER = 1024;
/** How far a reader may go back before its last read, in bytes. */
export const RING_REWIND_BYTES_MAX = 1024;
/** Bytes of raw writes a control file keeps readable (oldest dropped first); spec §7 appends each write before parsing. */
export const CONTROL_RETAINED_BYTES_MAX = 8192;

/** Bytes /log/queen.log keeps readable; oldest whole lines are dropped past it (the console LOG shows ≤ 64 lines). */
export const QUEEN_LOG_RETAINED_BYTES_MAX = 16384;
/** Longest single line appended to /log/queen.log, newline included (not the log cap's LOG_LINE_BYTES_MAX, a task's log line). */
export const QUEEN_LOG_LINE_BYTES_MAX = 1024;

/** Live worker records NineDoor keeps nodes for; root-task's quotas bound spawns well below this. */
export const WORKERS_MAX = 1024;
/** Worker id length (console limit §3.1, §16). */
export const WORKER_ID_BYTES_MAX = 32;
/** Concurrent namespace sessions (console sessions + worker channels + 9P TCP clients). */
export const SESSIONS_MAX = 256;
/** Binds/mounts one session may hold. */
export const BINDS_PER_SESSION_MAX = 16;
/** An absolute path in a bind/mount, in UTF-8 bytes (console path limit §3.1). */
export const BIND_PATH_BYTES_MAX = 96;
/** Components of a bind/mount path (cohsh limit §4.3, walk limit §5.3). */
export const BIND_PATH_COMPONENTS_MAX = 8;
/** Registered mount services (`logs` → /log and friends). */
export const SERVICES_MAX = 16;

// ---- queen telemetry ingest (spec §10.3) ----
/** One ctl line or one segment record, newline included. */
export const INGEST_RECORD_BYTES_MAX = 4096;
/** Bytes one segment holds. */
export const INGEST_SEGMENT_BYTES_MAX = 32768;
/** Segments one device keeps. */
export const INGEST_SEGMENTS_PER_DEVICE_MAX = 4;
/** Bytes one device keeps across its segments. */
export const INGEST_DEVICE_BYTES_MAX = 131072;
/** Ingest devices; each holds at most INGEST_DEVICE_BYTES_MAX, so this bounds ingest memory (2 MiB). */
export const INGEST_DEVICES_MAX = 16;
/** Device directory name, in UTF-8 bytes. */
export const INGEST_DEVICE_ID_BYTES_MAX = 64;
/** A mime string in a ctl line, in UTF-8 bytes. */
export const INGEST_MIME_BYTES_MAX = 128;
/** Segment numbers are 6 decimal digits (`seg-000001`); past this a device takes no new segments. */
export const INGEST_SEGMENT_SEQ_MAX = 999999;

// ---- GPU nodes and bridge (spec §11) ----
/** GPUs mirrored under /gpu. */
export const GPUS_MAX = 16;
/** GPU or model id, in UTF-8 bytes (§16 model id 128). */
export const GPU_ID_BYTES_MAX = 128;
/** /gpu/<id>/info content. */
export const GPU_INFO_BYTES_MAX = 4096;
/** /gpu/<id>/ctl retained bytes. */
export const GPU_CTL_BYTES_MAX = 1024;
/** /gpu/<id>/lease retained bytes. */
export const GPU_LEASE_BYTES_MAX = 1024;
/** /gpu/<id>/status retained bytes. */
export const GPU_STATUS_BYTES_MAX = 32768;
/** /gpu/<id>/job retained bytes; one job record ≤ the GPU telemetry record bound (§16). */
export const GPU_JOB_BYTES_MAX = 32768;
/** One job line. */
export const GPU_JOB_RECORD_BYTES_MAX = 4096;
/** Decoded bridge snapshot (`begin bytes=<n>`). */
export const BRIDGE_PAYLOAD_BYTES_MAX = 131072;
/** /gpu/bridge/status text. */
export const BRIDGE_STATUS_BYTES_MAX = 512;
/** One `b64:` chunk, in characters, so a console ECHO stays ≤ 128. */
export const BRIDGE_CHUNK_CHARS_MAX = 124;
/** Models one snapshot may list. */
export const MODELS_MAX = 32;
/** One model manifest (TOML). */
export const MODEL_MANIFEST_BYTES_MAX = 8192;
/** /gpu/telemetry/schema.json. */
export const GPU_TELEMETRY_SCHEMA_BYTES_MAX = 4096;

// ---- audit lines (docs/ninedoor.md "Audit lines"; issue 13 bugs 9-10) ----
/** The window refusal lines are counted and summarised over. */
export const AUDIT_INTERVAL_MS = 5000;
/** Full refusal lines one key (source, op, reason) may write per interval; the rest are counted and summarised. */
export const AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX = 3;
/** Full refusal lines all keys together may write per interval. */
export const AUDIT_LINES_PER_INTERVAL_MAX = 12;
/** Keys the summariser tracks per interval; past it refusals share one overflow key. */
export const AUDIT_KEYS_MAX = 32;
/** One field of an audit line (role, subject, path, reason), in characters; longer is cut. */
export const AUDIT_FIELD_CHARS_MAX = 96;
/** Bytes of /log/queen.log that audit lines may hold; past it the oldest audit line goes, so other lines survive. */
export const QUEEN_LOG_AUDIT_BYTES_MAX = 4096;
/** A worker's ring wraps are told at most once per this window, as one line with their count. */
export const RING_WRAP_NOTICE_INTERVAL_MS = 60000;
