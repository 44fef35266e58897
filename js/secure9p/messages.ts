// The shapes of decoded 9P2000.L messages: one discriminated union for requests, one for replies.
import type { RefusedRequestName } from './opcodes.js';

/** type[1] version[4] path[8]; `path` is u64, so a bigint. */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** One Rreaddir entry: qid[13] offset[8] type[1] name[s]. `offset` is the cookie of the next entry. */
export interface Dirent {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

export interface Tversion { kind: 'Tversion'; tag: number; msize: number; version: string }
export interface Tauth { kind: 'Tauth'; tag: number; afid: number; uname: string; aname: string; nUname: number }
export interface Tattach { kind: 'Tattach'; tag: number; fid: number; afid: number; uname: string; aname: string; nUname: number }
export interface Tflush { kind: 'Tflush'; tag: number; oldtag: number }
export interface Twalk { kind: 'Twalk'; tag: number; fid: number; newfid: number; names: string[] }
export interface Tlopen { kind: 'Tlopen'; tag: number; fid: number; flags: number }
export interface Tread { kind: 'Tread'; tag: number; fid: number; offset: bigint; count: number }
export interface Twrite { kind: 'Twrite'; tag: number; fid: number; offset: bigint; data: Uint8Array }
export interface Tclunk { kind: 'Tclunk'; tag: number; fid: number }
export interface Tgetattr { kind: 'Tgetattr'; tag: number; fid: number; requestMask: bigint }
export interface Treaddir { kind: 'Treaddir'; tag: number; fid: number; offset: bigint; count: number }
export interface Tstatfs { kind: 'Tstatfs'; tag: number; fid: number }
/** A request we know and refuse; only its header is read, `body` is kept raw and not interpreted. */
export interface Trefused { kind: 'Trefused'; tag: number; type: number; name: RefusedRequestName; body: Uint8Array }

export type Request =
  | Tversion | Tauth | Tattach | Tflush | Twalk | Tlopen | Tread | Twrite | Tclunk | Tgetattr | Treaddir | Tstatfs | Trefused;

export interface Rversion { kind: 'Rversion'; tag: number; msize: number; version: string }
export interface Rauth { kind: 'Rauth'; tag: number; aqid: Qid }
export interface Rattach { kind: 'Rattach'; tag: number; qid: Qid }
export interface Rflush { kind: 'Rflush'; tag: number }
export interface Rwalk { kind: 'Rwalk'; tag: number; qids: Qid[] }
export interface Rlopen { kind: 'Rlopen'; tag: number; qid: Qid; iounit: number }
export interface Rread { kind: 'Rread'; tag: number; data: Uint8Array }
export interface Rwrite { kind: 'Rwrite'; tag: number; count: number }
export interface Rclunk { kind: 'Rclunk'; tag: number }
export interface Rgetattr {
  kind: 'Rgetattr';
  tag: number;
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
  ctimeSec: bigint;
  ctimeNsec: bigint;
  btimeSec: bigint;
  btimeNsec: bigint;
  gen: bigint;
  dataVersion: bigint;
}
export interface Rreaddir { kind: 'Rreaddir'; tag: number; entries: Dirent[] }
export interface Rstatfs {
  kind: 'Rstatfs';
  tag: number;
  type: number;
  bsize: number;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: number;
}
export interface Rlerror { kind: 'Rlerror'; tag: number; ecode: number }

export type Reply =
  | Rversion | Rauth | Rattach | Rflush | Rwalk | Rlopen | Rread | Rwrite | Rclunk | Rgetattr | Rreaddir | Rstatfs | Rlerror;

export type Message = Request | Reply;
