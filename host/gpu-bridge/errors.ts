// gpu-bridge-host errors as values: a stable code (shown in logs, stderr and tests) and a human message.

export type BridgeErrorCode =
  | 'usage' // bad command line (exit 2)
  | 'smi-missing' // nvidia-smi is not installed / not on PATH
  | 'smi-failed' // nvidia-smi exited non-zero or printed its driver failure text
  | 'smi-timeout' // nvidia-smi did not finish within NVIDIA_SMI_TIMEOUT_MS
  | 'smi-no-gpus' // nvidia-smi ran and saw no device
  | 'smi-too-many' // more GPUs than /gpu mirrors (GPUS_MAX)
  | 'smi-unknown-format' // a CSV line or field we do not understand
  | 'smi-no-cuda-version' // the nvidia-smi header has no CUDA version
  | 'snapshot-too-big' // the encoded snapshot is over BRIDGE_PAYLOAD_BYTES_MAX
  | 'connect-failed' // TCP connect refused or timed out
  | 'auth-failed' // ERR AUTH
  | 'attach-failed' // ERR ATTACH
  | 'connection-lost' // EOF, reset or a framing fault mid-session
  | 'request-timeout' // no reply within REQUEST_TIMEOUT_MS
  | 'refused' // the hive answered ERR to a file verb
  | 'publish-failed' // the hive ended the publish with state=err (reason in the message)
  | 'publish-timeout'; // status never reached state=ok within the poll bound

export class BridgeError {
  constructor(
    readonly code: BridgeErrorCode,
    readonly message: string,
  ) {}
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isBridgeError(v: unknown): v is BridgeError {
  return v instanceof BridgeError;
}
