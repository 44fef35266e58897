/* Frame pool: each arena gets its own frames, mapped on demand and returned on free (see frame_pool.h). */
#include "frame_pool.h"

#include <string.h>

static uint32_t pages_for(size_t bytes) {
  return (uint32_t)((bytes + FRAME_PAGE_BYTES - 1u) / FRAME_PAGE_BYTES);
}

int frame_pool_init(FramePool *p, FramePoolOps ops, uintptr_t window_base, uint32_t window_pages) {
  if (!p || window_base % FRAME_PAGE_BYTES || !window_pages || window_pages > FRAME_POOL_WINDOW_PAGES_MAX) return -1;
  memset(p, 0, sizeof *p);
  p->ops = ops;
  p->window_base = window_base;
  p->window_pages = window_pages;
  return 0;
}

int frame_pool_add_untyped(FramePool *p, FrameCap cap, uint8_t size_bits) {
  if (size_bits < 12u || size_bits > 47u) return 0; /* too small for a frame; larger is not physical memory */
  if (p->untyped_count >= FRAME_POOL_UNTYPEDS_MAX) return -1;
  FramePoolUntyped *u = &p->untypeds[p->untyped_count++];
  u->cap = cap;
  u->bytes_total = 1ull << size_bits;
  u->bytes_used = 0;
  p->stats.untyped_bytes_left += u->bytes_total;
  return 0;
}

/* A reused frame if there is one, else a new one from the first untyped with room. */
static FrameCap frame_take(FramePool *p) {
  if (p->free_count) {
    p->stats.frames_free--;
    return p->free_frames[--p->free_count];
  }
  for (uint32_t i = 0; i < p->untyped_count; i++) {
    FramePoolUntyped *u = &p->untypeds[i];
    if (u->bytes_total - u->bytes_used < FRAME_PAGE_BYTES) continue;
    FrameCap f = 0;
    if (p->ops.retype_frame(p->ops.ctx, u->cap, &f) < 0 || !f) {
      /* The kernel disagrees with our watermark (or slots ran out): stop asking this untyped. */
      p->stats.untyped_bytes_left -= u->bytes_total - u->bytes_used;
      u->bytes_used = u->bytes_total;
      continue;
    }
    u->bytes_used += FRAME_PAGE_BYTES;
    p->stats.untyped_bytes_left -= FRAME_PAGE_BYTES;
    p->stats.frames_made++;
    return f;
  }
  return 0;
}

static void frame_keep(FramePool *p, FrameCap f) {
  /* free_frames holds the whole window's worth, and no more frames than that are ever mapped. */
  p->free_frames[p->free_count++] = f;
  p->stats.frames_free++;
}

/* First fit: a run of `need` empty pages (the region plus its guard page). */
static int64_t window_find(const FramePool *p, uint32_t need) {
  uint32_t run = 0;
  for (uint32_t i = 0; i < p->window_pages; i++) {
    run = p->page_frame[i] ? 0 : run + 1u;
    if (run == need) return (int64_t)(i + 1u - need);
  }
  return -1;
}

static void region_unmap(FramePool *p, uint32_t first, uint32_t pages) {
  for (uint32_t i = first; i < first + pages; i++) {
    FrameCap f = p->page_frame[i];
    if (f && f != FRAME_POOL_GUARD) {
      p->ops.unmap(p->ops.ctx, f);
      frame_keep(p, f);
      p->stats.frames_mapped--;
    }
    p->page_frame[i] = 0;
  }
}

void *frame_pool_alloc(FramePool *p, size_t bytes) {
  uint32_t pages = pages_for(bytes);
  FramePoolRegion *slot = NULL;
  for (uint32_t i = 0; i < FRAME_POOL_REGIONS_MAX && !slot; i++)
    if (!p->regions[i].vaddr) slot = &p->regions[i];
  int64_t first = (bytes && pages < p->window_pages && slot) ? window_find(p, pages + 1u) : -1;
  if (first < 0) {
    p->stats.failed_allocs++;
    return NULL;
  }
  uint32_t base = (uint32_t)first;
  p->page_frame[base + pages] = FRAME_POOL_GUARD;
  for (uint32_t i = 0; i < pages; i++) {
    uintptr_t va = p->window_base + (uintptr_t)(base + i) * FRAME_PAGE_BYTES;
    FrameCap f = frame_take(p);
    if (!f || p->ops.map(p->ops.ctx, f, va) < 0) {
      if (f) frame_keep(p, f);
      region_unmap(p, base, i);
      p->page_frame[base + pages] = 0;
      p->stats.failed_allocs++;
      return NULL;
    }
    p->page_frame[base + i] = f;
    p->stats.frames_mapped++;
  }
  slot->vaddr = p->window_base + (uintptr_t)base * FRAME_PAGE_BYTES;
  slot->pages = pages;
  p->stats.regions_live++;
  return (void *)slot->vaddr;
}

int frame_pool_free(FramePool *p, void *mem, size_t bytes) {
  uintptr_t va = (uintptr_t)mem;
  for (uint32_t i = 0; i < FRAME_POOL_REGIONS_MAX; i++) {
    FramePoolRegion *r = &p->regions[i];
    if (!va || r->vaddr != va || r->pages != pages_for(bytes)) continue;
    uint32_t first = (uint32_t)((va - p->window_base) / FRAME_PAGE_BYTES);
    region_unmap(p, first, r->pages + 1u); /* the guard page goes too */
    r->vaddr = 0;
    r->pages = 0;
    p->stats.regions_live--;
    return 0;
  }
  return -1;
}

FramePoolStats frame_pool_stats(const FramePool *p) { return p->stats; }
