// gpu-bridge-host bounds: every wait, retry, queue and size the host bridge keeps, with its unit.
//
// Keep in sync with: spec/INTERFACES.md §3.1/§16 (console limits, mirrored in js/console/limits.ts)
// and §11 (GPU bridge, mirrored in js/ninedoor/limits.ts). Bounds shared with the hive are
// imported from there, never restated.
export {
  BRIDGE_CHUNK_CHARS_MAX, BRIDGE_PAYLOAD_BYTES_MAX, GPU_JOB_RECORD_BYTES_MAX, GPUS_MAX,
} from '../../js/ninedoor/limits.js';
export { ECHO_PAYLOAD_BYTES_MAX, PATH_BYTES_MAX, STREAM_LINES_MAX, CONSOLE_LINE_BYTES_MAX } from '../../js/console/limits.js';

/** Longest one nvidia-smi run may take before discovery gives up, in ms. */
export const NVIDIA_SMI_TIMEOUT_MS = 10_000;
/** Most stdout bytes read from one nvidia-smi run (16 GPUs of CSV are ~3 KiB). */
export const NVIDIA_SMI_OUTPUT_BYTES_MAX = 256 * 1024;

/** TCP connect to the console, in ms. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** One console request (ACK, and END for a stream), in ms; spec §4.1 cohsh retry timeout. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Requests in flight on one console connection; below the server's 8-line inbound queue (spec §15). */
export const PIPELINE_DEPTH_MAX = 4;

/** Polls of /gpu/bridge/status after `end` before a publish counts as failed. */
export const PUBLISH_STATUS_POLLS_MAX = 20;
/** Pause between those polls, in ms. */
export const PUBLISH_STATUS_POLL_MS = 50;

/** `--interval-ms` bounds and default (spec §16 tail poll: 1000 ms, 250..10000). */
export const INTERVAL_MS_MIN = 250;
export const INTERVAL_MS_MAX = 10_000;
export const INTERVAL_MS_DEFAULT = 1_000;
/** Reconnect attempts per round and the doubling back-off (spec §4.2: 3 tries, 200 → 2000 ms). */
export const RECONNECT_ATTEMPTS_MAX = 3;
export const RECONNECT_BACKOFF_MS_MIN = 200;
export const RECONNECT_BACKOFF_MS_MAX = 2_000;
/** Time the bridge gives itself to release leases and QUIT when killed, in ms. */
export const SHUTDOWN_MS_MAX = 3_000;

/** Streams one lease may ask for on this host (spec: streams is a u8; the host bridge caps it). */
export const LEASE_STREAMS_MAX = 32;
/** A job id, in bytes, so its status lines fit one console ECHO (128 B). */
export const JOB_ID_BYTES_MAX = 32;
/** Jobs waiting per GPU; more are refused `ERR queue-full`. */
export const JOBS_QUEUED_PER_GPU_MAX = 64;
/** Buffer names in a job's `inputs` / `outputs`, and one name's length in bytes. */
export const JOB_BUFFERS_MAX = 8;
export const JOB_BUFFER_NAME_BYTES_MAX = 64;
/** A job's `timeout_ms` bounds. */
export const JOB_TIMEOUT_MS_MIN = 1;
export const JOB_TIMEOUT_MS_MAX = 60_000;
/** `vadd`: elements (grid × block threads) the CPU kernel takes. */
export const VADD_ELEMENTS_MAX = 1 << 16;
/** `matmul`: side of the square matrices the CPU kernel takes. */
export const MATMUL_DIM_MAX = 64;
/** `matmul` result check: relative tolerance of Freivalds' test, float32 accumulation. */
export const MATMUL_CHECK_TOLERANCE = 1e-3;
/** Hex digits of the output SHA-256 put in an OK status line (`result`), so the line fits an ECHO. */
export const RESULT_HEX_CHARS = 16;

/** GPU telemetry goes to this queen-ingest device (spec §10.3): /queen/telemetry/<device>/. */
export const TELEMETRY_DEVICE = 'gpu-bridge';
/** Appends (status, release, telemetry lines) waiting for the hive per GPU; past it the oldest is dropped and logged. */
export const OUTBOX_APPENDS_MAX = 256;
/** Bytes in a MiB: lease mem_mb is in MiB, jobs are sized in bytes. */
export const MIB_BYTES = 1024 * 1024;
