/* Frame pool: the bookkeeping behind task arenas on seL4 (untyped budget, frame reuse, an arena
 * window of pages); the kernel calls are injected through FramePoolOps, so this file has no seL4 includes. */
#ifndef COHESIX_SEL4_FRAME_POOL_H
#define COHESIX_SEL4_FRAME_POOL_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_PAGE_BYTES 4096u
/* Bootinfo untypeds we track; kept in sync with seL4's CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS (230). */
#define FRAME_POOL_UNTYPEDS_MAX 230u
/* The arena window: virtual pages for all arenas together (128 MiB; each task's quota is a run in it). */
#define FRAME_POOL_WINDOW_PAGES_MAX 32768u
/* Arenas alive at once: one per task (bindings/limits.h TASKS_MAX = 32) with room for a restart overlap. */
#define FRAME_POOL_REGIONS_MAX 64u
/* Frames kept for reuse after an arena is freed (the whole window's worth). */
#define FRAME_POOL_FREE_FRAMES_MAX FRAME_POOL_WINDOW_PAGES_MAX

/* Capability slots as seL4 names them (seL4_CPtr); 0 is the null cap, so 0 means "none". */
typedef uint64_t FrameCap;

typedef struct FramePoolOps {
  void *ctx;
  /* Make one 4 KiB frame from `untyped` into a new slot; 0 or a negative error (the untyped is then treated as full). */
  int (*retype_frame)(void *ctx, FrameCap untyped, FrameCap *frame_out);
  /* Map frame read-write, cached, at vaddr (paging structures are the platform's business); 0 or negative. */
  int (*map)(void *ctx, FrameCap frame, uintptr_t vaddr);
  void (*unmap)(void *ctx, FrameCap frame);
} FramePoolOps;

typedef struct FramePoolUntyped {
  FrameCap cap;
  uint64_t bytes_total;
  uint64_t bytes_used; /* our view of the kernel's watermark: frames are all page-sized, so it is exact */
} FramePoolUntyped;

typedef struct FramePoolRegion {
  uintptr_t vaddr; /* 0 = free entry */
  uint32_t pages;
} FramePoolRegion;

typedef struct FramePoolStats {
  uint64_t frames_made;     /* retyped from untyped, ever */
  uint64_t frames_mapped;   /* backing live arenas now */
  uint64_t frames_free;     /* made, unmapped, waiting for reuse */
  uint64_t untyped_bytes_left;
  uint32_t regions_live;
  uint64_t failed_allocs;
} FramePoolStats;

typedef struct FramePool {
  FramePoolOps ops;
  FramePoolUntyped untypeds[FRAME_POOL_UNTYPEDS_MAX];
  uint32_t untyped_count;
  FrameCap free_frames[FRAME_POOL_FREE_FRAMES_MAX];
  uint32_t free_count;
  uintptr_t window_base;
  uint32_t window_pages;
  /* Per window page: the frame mapped there, FRAME_POOL_GUARD for a guard page, 0 for nothing. */
  FrameCap page_frame[FRAME_POOL_WINDOW_PAGES_MAX];
  FramePoolRegion regions[FRAME_POOL_REGIONS_MAX];
  FramePoolStats stats;
} FramePool;

/* Marks the unmapped page after each region, so an overrun faults instead of reaching the next task. */
#define FRAME_POOL_GUARD UINT64_MAX

/* window_base page-aligned, window_pages <= FRAME_POOL_WINDOW_PAGES_MAX; -1 otherwise. */
int frame_pool_init(FramePool *p, FramePoolOps ops, uintptr_t window_base, uint32_t window_pages);
/* Adds one (non-device) untyped of 2^size_bits bytes; regions below a page are ignored. -1 when the table is full. */
int frame_pool_add_untyped(FramePool *p, FrameCap cap, uint8_t size_bits);
/* A fresh run of frames mapped in the window, bytes rounded up to pages; NULL when the window,
   the region table or the untypeds run out (everything taken on the way is given back). */
void *frame_pool_alloc(FramePool *p, size_t bytes);
/* Unmaps the region at mem and keeps its frames for reuse; -1 if mem/bytes is not a live region. */
int frame_pool_free(FramePool *p, void *mem, size_t bytes);
FramePoolStats frame_pool_stats(const FramePool *p);

#endif
