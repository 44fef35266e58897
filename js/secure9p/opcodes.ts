// 9P2000.L message type numbers, from the Linux kernel's include/net/9p/9p.h (enum p9_msg_t), matched by diod.

export const MessageType = {
  Tlerror: 6, // defined by Linux, never sent; decoded as unknown
  Rlerror: 7,
  Tstatfs: 8,
  Rstatfs: 9,
  Tlopen: 12,
  Rlopen: 13,
  Tlcreate: 14,
  Tsymlink: 16,
  Tmknod: 18,
  Trename: 20,
  Treadlink: 22,
  Tgetattr: 24,
  Rgetattr: 25,
  Tsetattr: 26,
  Txattrwalk: 30,
  Txattrcreate: 32,
  Treaddir: 40,
  Rreaddir: 41,
  Tfsync: 50,
  Tlock: 52,
  Tgetlock: 54,
  Tlink: 70,
  Tmkdir: 72,
  Trenameat: 74,
  Tunlinkat: 76,
  Tversion: 100,
  Rversion: 101,
  Tauth: 102,
  Rauth: 103,
  Tattach: 104,
  Rattach: 105,
  Tflush: 108,
  Rflush: 109,
  Twalk: 110,
  Rwalk: 111,
  Tread: 116,
  Rread: 117,
  Twrite: 118,
  Rwrite: 119,
  Tclunk: 120,
  Rclunk: 121,
  Tremove: 122,
} as const;

export type MessageTypeName = keyof typeof MessageType;

/**
 * Requests we know but refuse: the namespace is not mutable by clients and has no xattrs,
 * links or locks. They are decoded only far enough to answer Rlerror with their tag.
 */
export const REFUSED_REQUESTS = [
  'Tlcreate',
  'Tsymlink',
  'Tmknod',
  'Trename',
  'Treadlink',
  'Tsetattr',
  'Txattrwalk',
  'Txattrcreate',
  'Tfsync',
  'Tlock',
  'Tgetlock',
  'Tlink',
  'Tmkdir',
  'Trenameat',
  'Tunlinkat',
  'Tremove',
] as const;

export type RefusedRequestName = (typeof REFUSED_REQUESTS)[number];

const NAME_OF_TYPE = new Map<number, MessageTypeName>();
for (const [name, code] of Object.entries(MessageType)) NAME_OF_TYPE.set(code, name as MessageTypeName);

/** The message name for a type byte, or null for a number 9P2000.L does not define (for us). */
export function messageTypeName(type: number): MessageTypeName | null {
  return NAME_OF_TYPE.get(type) ?? null;
}

/** 9P2000.L Tlopen flags (P9_DOTL_*, fixed by the protocol, not the host's O_* values). */
export const OpenFlag = {
  ACCMODE: 3,
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  NOACCESS: 3,
  CREATE: 0o100,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DIRECTORY: 0o200000,
} as const;

/** Qid type bits (spec §5.1). */
export const QidType = {
  DIR: 0x80,
  APPEND: 0x40,
  FILE: 0x00,
} as const;

/** Rgetattr valid mask for the basic fields (P9_GETATTR_BASIC in the kernel). */
export const GETATTR_BASIC = 0x7ffn;

/** Linux dirent d_type values used in Rreaddir. */
export const DirentType = {
  DIR: 4,
  REG: 8,
} as const;
