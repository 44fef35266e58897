// The capability contract: the only door a task has to the world, handed to its `main` at start.
//
// Three providers implement it: the C natives in bindings/ (firmware), and host/node (Node.js).
// A capability the task's manifest entry does not grant still appears here, but every call
// throws a CapabilityError naming it: never a silent no-op.
//
// Keep in sync with: bindings/registry.h (grant names), firmware/caps.c (error codes), host/node/caps.ts.

/** Capability names as written in a manifest's `grants` list. */
export type CapName = 'log' | 'console' | 'net' | 'timer' | 'channel' | 'task' | 'image' | 'update';

export const CAP_NAMES: readonly CapName[] = ['log', 'console', 'net', 'timer', 'channel', 'task', 'image', 'update'];

/** Stable error codes a capability call can throw (as `CapError.code`). */
export type CapErrorCode =
  | 'ECAP' // capability not granted to this task (thrown as CapabilityError)
  | 'Busy' // a bounded queue or table is full; try later
  | 'TooBig' // the message or request is over a named bound
  | 'Invalid' // bad argument
  | 'NotFound' // no such socket, task, entry, endpoint
  | 'Closed' // the peer or socket is gone
  | 'Io'; // the platform refused (address in use, ...)

/** Shape of every error a capability throws; `name` is 'CapabilityError' or 'CapError'. */
export interface CapErrorShape {
  name: 'CapabilityError' | 'CapError';
  code: CapErrorCode;
  message: string;
  cap: CapName;
}

export function isCapError(e: unknown): e is CapErrorShape {
  return typeof e === 'object' && e !== null && typeof (e as CapErrorShape).code === 'string' &&
    ((e as CapErrorShape).name === 'CapError' || (e as CapErrorShape).name === 'CapabilityError');
}

export interface LogCap {
  /** Appends one line to the firmware log, prefixed with the task name by the provider. */
  write(line: string): void;
}

/** The UART (recovery) console: raw bytes in, text out. Line discipline lives in js/console. */
export interface ConsoleCap {
  write(text: string): void;
  /** Registers the one input handler of this task; a later call replaces it. */
  onInput(handler: (bytes: Uint8Array) => void): void;
}

export type ListenerId = number;
export type SocketId = number;

export interface ListenOptions {
  /** Address to bind; loopback unless the firmware was started with --bind. */
  host: string;
  port: number;
}

/** One handler set per listener, shared by every connection it accepts. */
export interface ListenHandlers {
  onAccept(sock: SocketId, peer: string): void;
  onData(sock: SocketId, bytes: Uint8Array): void;
  /** The peer closed, the connection failed, or close() was called; the id is dead after this. */
  onClose(sock: SocketId): void;
}

export interface NetCap {
  /** Throws CapError Io (e.g. address in use) or Busy (listener table full). */
  listen(opts: ListenOptions, handlers: ListenHandlers): ListenerId;
  /**
   * Queues bytes[0, length) (all of bytes without a length), copied before write returns, so the
   * caller may reuse its buffer at once; throws Busy when the socket's bounded send buffer cannot
   * take them all, Invalid for a length past the array.
   */
  write(sock: SocketId, bytes: Uint8Array, length?: number): void;
  /** Bytes queued and not yet sent. */
  pending(sock: SocketId): number;
  /**
   * Stops (true) or resumes (false) reading `sock`: while paused no onData comes for it; its bytes
   * wait in the platform's receive buffer and TCP's window slows the peer (back-pressure instead of
   * a growing queue). A reset still ends it with onClose. No-op for a socket that is closed or not
   * this task's, so a pause racing a close needs no care.
   */
  pauseReads(sock: SocketId, paused: boolean): void;
  /** Closes after queued bytes are flushed (bounded linger); onClose follows. */
  close(sock: SocketId): void;
  closeListener(listener: ListenerId): void;
  /** The port a listener is bound to (useful after listening on port 0). */
  localPort(listener: ListenerId): number;
}

export interface TimerCap {
  /** Monotonic milliseconds since firmware start. */
  nowMs(): number;
  /** Wall clock, Unix epoch milliseconds. */
  wallMs(): number;
  setTimeout(fn: () => void, ms: number): number;
  setInterval(fn: () => void, ms: number): number;
  clear(id: number): void;
}

export type ChannelMessage = Uint8Array | string;

/**
 * Bounded, copying message queues between tasks. A spawned task's endpoint 0 leads to the
 * task that spawned it; the spawner gets its endpoint number back from task.spawn().
 */
export interface ChannelCap {
  /** Throws Busy when the peer's queue is full, TooBig over the message bound, Closed if the peer is gone. */
  send(ep: number, msg: ChannelMessage): void;
  onMessage(handler: (ep: number, msg: ChannelMessage) => void): void;
  /**
   * Another task was linked to this one by a spawn with `link` (e.g. a worker to NineDoor): `ep`
   * is this task's end of the new channel. Heard before any message on that endpoint.
   */
  onLink(handler: (ep: number, peerId: number, peerLabel: string) => void): void;
}

export type TaskState = 'running' | 'faulted' | 'exited';
/** Why a task stopped: memory quota, CPU slice overrun, stack overflow, failed start, or killed. */
export type TaskFault = 'quota' | 'cpu' | 'stack' | 'load' | 'killed';

export interface TaskSpawnOptions {
  /** The manifest task entry to run: bundle, arena, grants and CPU slice all come from there. */
  task: string;
  /** Instance label shown in task lists and logs (e.g. `worker-3`); defaults to `task`. */
  label?: string;
  /** JSON-serialisable value handed to the new task's main as `config.args`. */
  args?: unknown;
  /**
   * Also links the new task to this running task id: the new task's endpoint 1 leads there, and
   * that task hears `channel.onLink`. How workers reach NineDoor without passing through root-task.
   */
  link?: number;
}

export interface TaskInfo {
  id: number;
  label: string;
  task: string;
  state: TaskState;
  fault: TaskFault | null;
  detail: string;
  arenaBytes: number;
  arenaUsedBytes: number;
  arenaPeakBytes: number;
  cpuMs: number;
}

/** What a hot reload did (TaskCap.reload). */
export interface ReloadResult {
  id: number;
  /** The new code's restore(state) ran with what the old code's snapshot() gave. */
  restored: boolean;
  /** The old code gave state, but the new code has no restore(): the state was not kept. */
  stateDropped: boolean;
  /** Bytes of snapshot JSON carried across (≤ RELOAD_SNAPSHOT_BYTES_MAX). */
  snapshotBytes: number;
  /** Time the swap took, in ms. */
  ms: number;
}

export interface TaskCap {
  /** Throws NotFound for an unknown manifest task, Busy when the task table is full, Io when the arena cannot be had. */
  spawn(opts: TaskSpawnOptions): { id: number; ep: number; linkEp?: number };
  /** Stops the task and frees its whole arena at once. Throws NotFound for an unknown id. */
  kill(id: number): void;
  list(): TaskInfo[];
  /** Called when a task faults (quota, cpu, stack); the task is stopped but holds its arena until kill(). */
  onFault(handler: (id: number, fault: TaskFault, detail: string) => void): void;
  /**
   * Hot reload (dev images only): runs the `.qbc` file `qbc` in place of task `id`'s code, with the
   * same id, grants, quota, channel endpoints and queued messages; the old code's snapshot() is
   * handed to the new code's restore(state) (see TaskHandle). If the new code fails to load,
   * start or restore, the old code runs on untouched and this throws Io. Throws Invalid for a
   * release image, bytecode for another engine or a broken file, or id = the caller; NotFound
   * for no running task id; Busy when the task table has no spare slot for the new runtime.
   */
  reload(id: number, qbc: Uint8Array): ReloadResult;
  /** Later spawns of manifest task `task` run this `.qbc` file (dev images only); same refusals as reload. */
  setBundle(task: string, qbc: Uint8Array): void;
}

export interface ImageEntry {
  name: string;
  size: number;
  sha256: string;
}

/** Read-only view of the boot image the firmware verified at start. */
export interface ImageCap {
  list(): ImageEntry[];
  /** Throws NotFound for an unknown entry. */
  read(name: string): Uint8Array;
  /** The image's manifest.json, parsed. */
  manifest(): unknown;
}

export type SlotLetter = 'A' | 'B';

/** Where over-the-air updates stand on this device (UpdateCap.status). */
export interface UpdateStatus {
  /** Booted from A/B slots: updates are possible. */
  slots: boolean;
  /** The slot running now, and the one an update goes to (null without slots). */
  running: SlotLetter | null;
  target: SlotLetter | null;
  /** Largest image an update may send, in bytes. */
  bytesMax: number;
  /** An update is installed and marked for trial; only the restart is left. */
  installed: boolean;
  /** The staged upload, kept across dropped connections until committed or aborted. */
  staged: { bytes: number; received: number; digest: string } | null;
}

/** What commit answers: the slot now on trial, or why the image was refused (slots untouched). */
export type UpdateCommit =
  | { slot: SlotLetter; imageId: string; refused?: undefined }
  /** refused: incomplete, hash-mismatch, bad-signature, untrusted-key, unsigned, no-trusted-key, wrong-engine, invalid-image, io. */
  | { refused: string; error: string; slot?: undefined };

/**
 * Over-the-air update of the hive image (docs/ota-update.md): the image is staged into the slot that is
 * not running, checked on the device (SHA-256, then verified as boot does: signature before any
 * bytecode, trusted key, engine fingerprint), marked for trial, and the device restarts into it.
 */
export interface UpdateCap {
  status(): UpdateStatus;
  /**
   * Stages an image of `bytes` with SHA-256 `digest` (hex). The same size and digest as the staged
   * upload resume it (`offset` = bytes already held); anything else starts afresh. Throws NotFound
   * without slots, TooBig over bytesMax, Busy once an update is installed.
   */
  begin(bytes: number, digest: string): { slot: SlotLetter; offset: number; resumed: boolean };
  /** Appends bytes at `offset`, which must equal what was received; returns the bytes received. */
  write(offset: number, chunk: Uint8Array): number;
  commit(): UpdateCommit;
  /** Drops the staged upload; the slot keeps what it had. */
  abort(): void;
  /** Restarts the device into the installed update (host: re-exec; seL4: reset) after this turn. */
  restart(): void;
}

export interface Caps {
  log: LogCap;
  console: ConsoleCap;
  net: NetCap;
  timer: TimerCap;
  channel: ChannelCap;
  task: TaskCap;
  image: ImageCap;
  update: UpdateCap;
}

/** What every task's `main` receives besides its caps. */
export interface TaskConfig {
  /** This task's id and label. */
  id: number;
  label: string;
  /** The manifest entry name. */
  task: string;
  /** Values the spawner passed (task.spawn args), or the firmware's boot settings for root-task. */
  args: unknown;
}

/**
 * What a task's main may return so its state survives a hot reload: `snapshot()` runs in the old
 * code and must return a JSON-serialisable value (≤ RELOAD_SNAPSHOT_BYTES_MAX as JSON text);
 * `restore(state)` runs in the new code right after its main. Either may be absent.
 */
export interface TaskHandle {
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** Every bundle's default export. */
export type TaskMain = (caps: Caps, config: TaskConfig) => void | TaskHandle;
