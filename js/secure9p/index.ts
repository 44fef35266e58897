// Public surface of js/secure9p: codec, frame splitter, session engine and the file-server contract NineDoor implements.
export * from './limits.js';
export * from './errors.js';
export * from './opcodes.js';
export type * from './messages.js';
export { decodeFrame, decodeRequest, encodeMessage, direntBytes, type DecodeResult } from './codec.js';
export { nameProblem, nameBytesProblem } from './names.js';
export { FrameSplitter, type FrameEvent } from './frames.js';
export type * from './fileserver.js';
export { resolvePrincipal, type AttachPolicy } from './principal.js';
export { Session, VERSION_9P2000L, VERSION_UNKNOWN, type SessionOptions } from './session.js';
export { MemFs, MEMFS_FILE_BYTES_MAX, type MemNode, type MemDir, type MemFile } from './memfs.js';
export {
  NineClient, errorFromErrno, type ClientOptions, type Opened, CLIENT_QUEUE_MAX, CLIENT_REQUEST_TIMEOUT_MS, READ_ALL_BYTES_MAX,
  WRITE_BYTES_MAX, LIST_ENTRIES_MAX, PATH_NAMES_MAX, ETIMEDOUT,
} from './client.js';
