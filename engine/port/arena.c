/* Arena: a TLSF-style allocator (two-level segregated fit, O(1) malloc/free) over one fixed block. */
#include "arena.h"

#include <string.h>

/*
 * Layout: [Arena control][block][block]...[sentinel]. Each block has a 16-byte header
 * {prev_size, size|flags} followed by its payload. prev_size is meaningful only when the
 * previous block is free (PREV_FREE), which is what lets free() coalesce backwards in O(1).
 * A free block keeps its free-list links in the first 16 bytes of its payload.
 */

#define SL_LOG2 4u                          /* second-level lists per first-level class: 16 */
#define SL_COUNT (1u << SL_LOG2)
#define ALIGN_LOG2 4u                       /* log2(ARENA_ALIGN_BYTES) */
#define FL_SHIFT (SL_LOG2 + ALIGN_LOG2)     /* sizes below 2^FL_SHIFT share first-level class 0 */
#define SMALL_BYTES (1u << FL_SHIFT)
#define FL_MAX_LOG2 30u                     /* ARENA_BYTES_MAX */
#define FL_COUNT (FL_MAX_LOG2 - FL_SHIFT + 2u)

#define HEADER_BYTES 16u
#define PAYLOAD_MIN_BYTES 16u               /* room for the two free-list links */
#define FLAG_FREE ((size_t)1)
#define FLAG_PREV_FREE ((size_t)2)
#define FLAG_CACHED ((size_t)4) /* freed into a size-class cache: in use as far as TLSF knows */
#define FLAG_MASK ((size_t)15)

/*
 * Small-size caches in front of TLSF. The engine frees and allocates the same few small sizes
 * over and over (objects, shapes, property arrays: ~40 of each per 9P request in NineDoor); a
 * cached block is handed out again by a pop from its class's list instead of a TLSF search,
 * split and coalesce. One class per payload size up to CACHE_PAYLOAD_BYTES_MAX; each holds at
 * most CACHE_CLASS_BYTES_MAX bytes (headers included), so at most CACHE_CLASSES * that are
 * held back. Accounting treats a cached block as free; when TLSF cannot serve a request, every
 * cache is given back (coalescing) and the request retried, so caching never turns an allocation
 * that would have fitted into a failure.
 */
#define CACHE_PAYLOAD_BYTES_MAX 256u
#define CACHE_CLASSES (CACHE_PAYLOAD_BYTES_MAX / ARENA_ALIGN_BYTES)
#define CACHE_CLASS_BYTES_MAX 2048u

typedef struct Block {
  size_t prev_size;
  size_t size_flags;
  /* only while free: */
  struct Block *next_free;
  struct Block *prev_free;
} Block;

struct Arena {
  uint32_t fl_bitmap;
  uint32_t sl_bitmap[FL_COUNT];
  Block *free_lists[FL_COUNT][SL_COUNT];
  unsigned char *start; /* first block */
  unsigned char *end;   /* sentinel block */
  size_t bytes_total;
  size_t bytes_used;
  size_t bytes_peak;
  size_t blocks_used;
  uint64_t failed_allocs;
  Block *cache[CACHE_CLASSES];        /* LIFO, linked through next_free; class c holds payload (c + 1) * 16 */
  size_t cache_bytes[CACHE_CLASSES];  /* payload + headers held by each class */
};

static size_t block_size(const Block *b) { return b->size_flags & ~FLAG_MASK; }
static int block_is_free(const Block *b) { return (b->size_flags & FLAG_FREE) != 0; }
static int block_prev_free(const Block *b) { return (b->size_flags & FLAG_PREV_FREE) != 0; }
static void *block_payload(Block *b) { return (unsigned char *)b + HEADER_BYTES; }
static Block *block_of(const void *p) { return (Block *)((unsigned char *)p - HEADER_BYTES); }
static Block *block_next(Block *b) { return (Block *)((unsigned char *)b + HEADER_BYTES + block_size(b)); }
static Block *block_prev(Block *b) { return (Block *)((unsigned char *)b - b->prev_size - HEADER_BYTES); }

static void block_set_size(Block *b, size_t size) { b->size_flags = size | (b->size_flags & FLAG_MASK); }

static void block_mark_free(Block *b) {
  Block *n = block_next(b);
  b->size_flags |= FLAG_FREE;
  n->prev_size = block_size(b);
  n->size_flags |= FLAG_PREV_FREE;
}

static void block_mark_used(Block *b) {
  Block *n = block_next(b);
  b->size_flags &= ~FLAG_FREE;
  n->size_flags &= ~FLAG_PREV_FREE;
}

static unsigned fls_size(size_t x) { /* index of the highest set bit; x > 0 */
  return (unsigned)(sizeof(size_t) * 8u - 1u - (unsigned)__builtin_clzl((unsigned long)x));
}
static unsigned ffs_u32(uint32_t x) { return (unsigned)__builtin_ctz(x); } /* x > 0 */

static void mapping_insert(size_t size, unsigned *fl, unsigned *sl) {
  if (size < SMALL_BYTES) {
    *fl = 0;
    *sl = (unsigned)(size / (SMALL_BYTES / SL_COUNT));
  } else {
    unsigned f = fls_size(size);
    *sl = (unsigned)(size >> (f - SL_LOG2)) ^ SL_COUNT;
    *fl = f - (FL_SHIFT - 1u);
  }
}

/* Rounds size up to the next list boundary so any block found in that list fits. */
static void mapping_search(size_t size, unsigned *fl, unsigned *sl) {
  if (size >= SMALL_BYTES) size += ((size_t)1 << (fls_size(size) - SL_LOG2)) - 1u;
  mapping_insert(size, fl, sl);
}

static void list_remove(Arena *a, Block *b, unsigned fl, unsigned sl) {
  Block *prev = b->prev_free, *next = b->next_free;
  if (next) next->prev_free = prev;
  if (prev) prev->next_free = next;
  if (a->free_lists[fl][sl] == b) {
    a->free_lists[fl][sl] = next;
    if (!next) {
      a->sl_bitmap[fl] &= ~(1u << sl);
      if (!a->sl_bitmap[fl]) a->fl_bitmap &= ~(1u << fl);
    }
  }
}

static void free_remove(Arena *a, Block *b) {
  unsigned fl, sl;
  mapping_insert(block_size(b), &fl, &sl);
  list_remove(a, b, fl, sl);
}

static void free_insert(Arena *a, Block *b) {
  unsigned fl, sl;
  mapping_insert(block_size(b), &fl, &sl);
  Block *head = a->free_lists[fl][sl];
  b->next_free = head;
  b->prev_free = NULL;
  if (head) head->prev_free = b;
  a->free_lists[fl][sl] = b;
  a->fl_bitmap |= 1u << fl;
  a->sl_bitmap[fl] |= 1u << sl;
}

/* When good-fit finds nothing, this many blocks of the request's own list are tried first-fit,
   so an exact-size hole (the common case after a free) is reused in a nearly full arena. */
#define ARENA_FIT_SCAN_MAX 8u

static Block *find_exact(Arena *a, size_t size) {
  unsigned fl, sl, n = 0;
  mapping_insert(size, &fl, &sl);
  if (fl >= FL_COUNT) return NULL;
  for (Block *b = a->free_lists[fl][sl]; b && n < ARENA_FIT_SCAN_MAX; b = b->next_free, n++) {
    if (block_size(b) >= size) {
      list_remove(a, b, fl, sl);
      return b;
    }
  }
  return NULL;
}

static Block *find_free(Arena *a, size_t size) {
  unsigned fl, sl;
  mapping_search(size, &fl, &sl);
  if (fl >= FL_COUNT) return find_exact(a, size);
  uint32_t sl_map = a->sl_bitmap[fl] & (~0u << sl);
  if (!sl_map) {
    uint32_t fl_map = (fl + 1u < 32u) ? (a->fl_bitmap & (~0u << (fl + 1u))) : 0u;
    if (!fl_map) return find_exact(a, size);
    fl = ffs_u32(fl_map);
    sl_map = a->sl_bitmap[fl];
  }
  sl = ffs_u32(sl_map);
  Block *b = a->free_lists[fl][sl];
  list_remove(a, b, fl, sl);
  return b;
}

/* Splits b (in use) so it keeps `size` payload bytes; the remainder becomes a free block. */
static void split_tail(Arena *a, Block *b, size_t size) {
  size_t have = block_size(b);
  if (have < size + HEADER_BYTES + PAYLOAD_MIN_BYTES) return;
  Block *rest = (Block *)((unsigned char *)block_payload(b) + size);
  rest->size_flags = 0;
  block_set_size(rest, have - size - HEADER_BYTES);
  block_set_size(b, size);
  /* rest's previous (b) is in use; its next's PREV_FREE is set by block_mark_free. */
  block_mark_free(rest);
  /* Coalesce with a free successor so free blocks never sit side by side. */
  Block *n = block_next(rest);
  if (block_is_free(n)) {
    free_remove(a, n);
    block_set_size(rest, block_size(rest) + HEADER_BYTES + block_size(n));
    block_mark_free(rest);
  }
  free_insert(a, rest);
}

static size_t adjust_request(size_t size) {
  if (size > ARENA_BYTES_MAX) return 0;
  if (size < PAYLOAD_MIN_BYTES) size = PAYLOAD_MIN_BYTES;
  return (size + ARENA_ALIGN_BYTES - 1u) & ~(size_t)(ARENA_ALIGN_BYTES - 1u);
}

static void account_alloc(Arena *a, Block *b) {
  a->bytes_used += block_size(b) + HEADER_BYTES;
  a->blocks_used++;
  if (a->bytes_used > a->bytes_peak) a->bytes_peak = a->bytes_used;
}

static void account_free(Arena *a, Block *b) {
  a->bytes_used -= block_size(b) + HEADER_BYTES;
  a->blocks_used--;
}

Arena *arena_init(void *mem, size_t bytes) {
  if (!mem || ((uintptr_t)mem & (ARENA_ALIGN_BYTES - 1u)) || bytes < ARENA_BYTES_MIN || bytes > ARENA_BYTES_MAX) return NULL;
  Arena *a = (Arena *)mem;
  memset(a, 0, sizeof *a);
  size_t control = (sizeof(Arena) + ARENA_ALIGN_BYTES - 1u) & ~(size_t)(ARENA_ALIGN_BYTES - 1u);
  size_t usable = (bytes - control) & ~(size_t)(ARENA_ALIGN_BYTES - 1u);
  if (usable < 2u * HEADER_BYTES + PAYLOAD_MIN_BYTES) return NULL;
  a->start = (unsigned char *)mem + control;
  a->end = a->start + usable - HEADER_BYTES;
  Block *first = (Block *)a->start;
  first->prev_size = 0;
  first->size_flags = 0;
  block_set_size(first, usable - 2u * HEADER_BYTES);
  Block *sentinel = (Block *)a->end;
  sentinel->prev_size = 0;
  sentinel->size_flags = 0; /* size 0, in use: stops every forward walk */
  block_mark_free(first);
  free_insert(a, first);
  a->bytes_total = usable - HEADER_BYTES;
  return a;
}

/* Frees a block for real: coalesces with free neighbours and lists the result. */
static void tlsf_free(Arena *a, Block *b) {
  if (block_prev_free(b)) {
    Block *p = block_prev(b);
    free_remove(a, p);
    block_set_size(p, block_size(p) + HEADER_BYTES + block_size(b));
    b = p;
  }
  Block *n = block_next(b);
  if (block_is_free(n)) {
    free_remove(a, n);
    block_set_size(b, block_size(b) + HEADER_BYTES + block_size(n));
  }
  block_mark_free(b);
  free_insert(a, b);
}

/* Gives every cached block back to TLSF; returns how many there were. */
static size_t cache_flush(Arena *a) {
  size_t n = 0;
  for (unsigned c = 0; c < CACHE_CLASSES; c++) {
    Block *b = a->cache[c];
    a->cache[c] = NULL;
    a->cache_bytes[c] = 0;
    while (b) {
      Block *next = b->next_free;
      b->size_flags &= ~FLAG_CACHED;
      tlsf_free(a, b);
      b = next;
      n++;
    }
  }
  return n;
}

void arena_trim(Arena *a) { cache_flush(a); }

void *arena_malloc(Arena *a, size_t size) {
  size_t want = adjust_request(size);
  if (want && want <= CACHE_PAYLOAD_BYTES_MAX) {
    unsigned c = (unsigned)(want / ARENA_ALIGN_BYTES - 1u);
    Block *b = a->cache[c];
    if (b) {
      a->cache[c] = b->next_free;
      a->cache_bytes[c] -= want + HEADER_BYTES;
      b->size_flags &= ~FLAG_CACHED;
      account_alloc(a, b);
      return block_payload(b);
    }
  }
  Block *b = want ? find_free(a, want) : NULL;
  if (!b && want && cache_flush(a)) b = find_free(a, want);
  if (!b) {
    a->failed_allocs++;
    return NULL;
  }
  block_mark_used(b);
  split_tail(a, b, want);
  account_alloc(a, b);
  return block_payload(b);
}

void *arena_calloc(Arena *a, size_t count, size_t size) {
  if (size && count > (size_t)-1 / size) {
    a->failed_allocs++;
    return NULL;
  }
  void *p = arena_malloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void arena_free(Arena *a, void *ptr) {
  if (!ptr) return;
  Block *b = block_of(ptr);
  account_free(a, b);
  size_t size = block_size(b);
  if (size <= CACHE_PAYLOAD_BYTES_MAX) {
    /* Classed by the block's own size (it may be larger than what was asked for), so any block in
       a class fits every request of that class. */
    unsigned c = (unsigned)(size / ARENA_ALIGN_BYTES - 1u);
    if (a->cache_bytes[c] + size + HEADER_BYTES <= CACHE_CLASS_BYTES_MAX) {
      b->size_flags |= FLAG_CACHED;
      b->next_free = a->cache[c];
      a->cache[c] = b;
      a->cache_bytes[c] += size + HEADER_BYTES;
      return;
    }
  }
  tlsf_free(a, b);
}

void *arena_realloc(Arena *a, void *ptr, size_t size) {
  if (!ptr) return arena_malloc(a, size);
  if (size == 0) {
    arena_free(a, ptr);
    return NULL;
  }
  size_t want = adjust_request(size);
  if (!want) {
    a->failed_allocs++;
    return NULL;
  }
  Block *b = block_of(ptr);
  size_t have = block_size(b);
  if (want <= have) {
    account_free(a, b);
    split_tail(a, b, want);
    account_alloc(a, b);
    return ptr;
  }
  /* Grow in place by absorbing a free successor when it is big enough. */
  Block *n = block_next(b);
  if (block_is_free(n) && have + HEADER_BYTES + block_size(n) >= want) {
    account_free(a, b);
    free_remove(a, n);
    block_set_size(b, have + HEADER_BYTES + block_size(n));
    block_mark_used(b);
    split_tail(a, b, want);
    account_alloc(a, b);
    return ptr;
  }
  void *np = arena_malloc(a, size);
  if (!np) return NULL;
  memcpy(np, ptr, have);
  arena_free(a, ptr);
  return np;
}

size_t arena_usable_size(const void *ptr) {
  return ptr ? block_size(block_of(ptr)) : 0;
}

ArenaStats arena_stats(const Arena *a) {
  ArenaStats s;
  s.bytes_total = a->bytes_total;
  s.bytes_used = a->bytes_used;
  s.bytes_peak = a->bytes_peak;
  s.blocks_used = a->blocks_used;
  s.failed_allocs = a->failed_allocs;
  s.bytes_cached = 0;
  for (unsigned c = 0; c < CACHE_CLASSES; c++) s.bytes_cached += a->cache_bytes[c];
  s.largest_free = 0;
  if (a->fl_bitmap) {
    unsigned fl = fls_size(a->fl_bitmap);
    unsigned sl = fls_size(a->sl_bitmap[fl]);
    /* The largest list holds blocks of differing sizes: take the biggest in it. The walk is
       bounded by the number of free blocks in one list, itself bounded by the arena size. */
    for (const Block *b = a->free_lists[fl][sl]; b; b = b->next_free)
      if (block_size(b) > s.largest_free) s.largest_free = block_size(b);
  }
  return s;
}

int arena_check(const Arena *a) {
  size_t used = 0, blocks = 0, free_blocks = 0, cached = 0, cached_bytes = 0;
  int prev_was_free = 0;
  const unsigned char *p = a->start;
  while (p < a->end) {
    const Block *b = (const Block *)p;
    size_t sz = block_size(b);
    if (sz % ARENA_ALIGN_BYTES) return -1;
    if (block_prev_free(b) != prev_was_free) return -2;
    if (prev_was_free && block_is_free(b)) return -3; /* two free neighbours: missed coalesce */
    if (block_is_free(b)) {
      free_blocks++;
      if (b->size_flags & FLAG_CACHED) return -11; /* cached blocks stay in use for TLSF */
    } else if (b->size_flags & FLAG_CACHED) {
      cached++;
      cached_bytes += sz + HEADER_BYTES;
    } else {
      used += sz + HEADER_BYTES;
      blocks++;
    }
    prev_was_free = block_is_free(b);
    p += HEADER_BYTES + sz;
  }
  if (p != a->end) return -4;
  if (block_prev_free((const Block *)a->end) != prev_was_free) return -5;
  if (used != a->bytes_used || blocks != a->blocks_used) return -6;
  size_t listed = 0;
  for (unsigned fl = 0; fl < FL_COUNT; fl++)
    for (unsigned sl = 0; sl < SL_COUNT; sl++) {
      int has = (a->sl_bitmap[fl] >> sl) & 1u;
      if (has != (a->free_lists[fl][sl] != NULL)) return -7;
      for (const Block *b = a->free_lists[fl][sl]; b; b = b->next_free) {
        unsigned f2, s2;
        mapping_insert(block_size(b), &f2, &s2);
        if (f2 != fl || s2 != sl || !block_is_free(b)) return -8;
        if (++listed > free_blocks) return -9;
      }
    }
  if (listed != free_blocks) return -10;
  size_t in_caches = 0, in_cache_bytes = 0;
  for (unsigned c = 0; c < CACHE_CLASSES; c++) {
    size_t class_bytes = 0;
    for (const Block *b = a->cache[c]; b; b = b->next_free) {
      if (!(b->size_flags & FLAG_CACHED) || block_is_free(b) || block_size(b) != (c + 1u) * ARENA_ALIGN_BYTES) return -12;
      if (++in_caches > cached) return -13;
      class_bytes += block_size(b) + HEADER_BYTES;
    }
    if (class_bytes != a->cache_bytes[c] || class_bytes > CACHE_CLASS_BYTES_MAX) return -14;
    in_cache_bytes += class_bytes;
  }
  if (in_caches != cached || in_cache_bytes != cached_bytes) return -15;
  return 0;
}
