/* Arena: a TLSF-style allocator over one fixed block; a task's whole memory quota lives in one. */
#ifndef COHESIX_ENGINE_ARENA_H
#define COHESIX_ENGINE_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Every pointer handed out is aligned to this (max_align_t on the targets we build for). */
#define ARENA_ALIGN_BYTES 16u
/* Smallest arena worth creating: control block plus a few blocks. */
#define ARENA_BYTES_MIN 4096u
/* Largest arena: bounds the first-level index (2^30 = 1 GiB). */
#define ARENA_BYTES_MAX (1u << 30)

typedef struct Arena Arena;

typedef struct ArenaStats {
  size_t bytes_total;     /* usable bytes after the control block */
  size_t bytes_used;      /* payload + headers of blocks in use */
  size_t bytes_peak;      /* high-water mark of bytes_used */
  size_t blocks_used;     /* live allocations */
  size_t largest_free;    /* payload bytes of the largest free block (fragmentation gauge), caches not counted */
  size_t bytes_cached;    /* payload + headers of freed small blocks held in the size-class caches (counted as free) */
  uint64_t failed_allocs; /* requests answered with NULL */
} ArenaStats;

/* Formats `mem` (ARENA_ALIGN_BYTES-aligned, `bytes` long) as an empty arena; NULL if too small or too big. */
Arena *arena_init(void *mem, size_t bytes);
void *arena_malloc(Arena *a, size_t size);
void *arena_calloc(Arena *a, size_t count, size_t size);
/* realloc(NULL, n) = malloc(n); realloc(p, 0) frees p and returns NULL. On failure p is untouched. */
void *arena_realloc(Arena *a, void *ptr, size_t size);
void arena_free(Arena *a, void *ptr);
/* Bytes usable at ptr (>= the size asked for); needs no arena, as quickjs-ng's hook has none. */
size_t arena_usable_size(const void *ptr);
ArenaStats arena_stats(const Arena *a);
/* Gives the freed small blocks held in the size-class caches back to the allocator, coalescing
   them; arena_malloc does this itself before it would answer NULL. */
void arena_trim(Arena *a);
/* Walks every block checking the invariants; returns 0 if sound, else a negative code. For tests. */
int arena_check(const Arena *a);

#endif
