// NineDoor bounds (spec §6, §10.1, §16).

/** Bits of the shard label; 8 gives labels 00..ff, all created at boot. */
export const SHARD_BITS = 8;
/** Bytes one worker's telemetry ring retains. */
export const RING_BYTES_PER_WORKER = 1024;
/** How far a reader may go back before its last read, in bytes. */
export const RING_REWIND_BYTES_MAX = 1024;
/** Bytes of raw writes a control file keeps readable (oldest dropped first); spec §7 appends each write before parsing. */
export const CONTROL_RETAINED_BYTES_MAX = 8192;
