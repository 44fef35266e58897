// Secure9P bounds (spec §5, §16): every queue, name and frame the codec and session touch is capped here.

/** Largest frame either side may send; a client asking for more gets this (spec §16). */
export const MSIZE_MAX_BYTES = 8192;
/** Smallest msize we negotiate: an Rgetattr (160 bytes) and an 8-qid Rwalk must still fit. */
export const MSIZE_MIN_BYTES = 256;
/** size[4] type[1] tag[2]: the smallest possible frame. */
export const HEADER_BYTES = 7;
/** type[1] version[4] path[8]. */
export const QID_BYTES = 13;
/** Names one Twalk may carry (spec §5.3). */
export const WALK_NAMES_MAX = 8;
/** One path component, in UTF-8 bytes (spec §16, §17.1). */
export const NAME_BYTES_MAX = 255;
/** Requests a session may have outstanding at once (spec §5.4). */
export const TAGS_IN_FLIGHT_MAX = 16;
/** Header of an Rread/Rreaddir: size[4] type[1] tag[2] count[4]; the payload gets msize minus this. */
export const RREAD_HEADER_BYTES = 11;
/**
 * Linux P9_IOHDRSZ: the header room a Twrite needs (size type tag fid offset count). We announce
 * iounit = msize − this so a client's largest single write still fits one frame.
 */
export const IO_HEADER_BYTES = 24;
/** Fids one session may hold open at once; a bound so a client cannot grow the table forever. */
export const FIDS_PER_SESSION_MAX = 256;
/** Retired (clunked) fid numbers remembered per session; past this the oldest are forgotten. */
export const RETIRED_FIDS_MAX = 4096;
/** Tag that Tversion travels with. */
export const NOTAG = 0xffff;
/** The "no fid" value (afid of an unauthenticated attach). */
export const NOFID = 0xffffffff;
/** Write offset meaning "at the current end" for rings and segments (spec §5.3). */
export const OFFSET_AT_END = 0xffffffffffffffffn;
