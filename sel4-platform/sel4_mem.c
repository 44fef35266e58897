/* seL4 memory for the root task: capability slots, the kernel-object untyped, device pages, and the
 * frame pool's kernel calls (retype a frame, map it with page tables made on demand, unmap it). */
#include <stdio.h>

#include "sel4_platform.h"

/* Page-table levels below the VSpace root on AArch64 (48-bit, 4 KiB granule): at most 3 missing. */
#define SEL4_PT_LEVELS_MAX 3u

static seL4_CPtr g_slot_next, g_slot_end;
static seL4_CPtr g_kobj_untyped;
static unsigned g_device_pages;

seL4_CPtr sel4_slot_alloc(void) {
  if (g_slot_next >= g_slot_end) return 0;
  return g_slot_next++;
}

static int retype(seL4_CPtr untyped, seL4_Word type, seL4_Word size_bits, seL4_CPtr slot) {
  return seL4_Untyped_Retype(untyped, type, size_bits, seL4_CapInitThreadCNode, 0, 0, slot, 1);
}

seL4_CPtr sel4_object_alloc(seL4_Word type, seL4_Word size_bits) {
  seL4_CPtr slot = sel4_slot_alloc();
  if (!slot || retype(g_kobj_untyped, type, size_bits, slot) != seL4_NoError) return 0;
  return slot;
}

/* Maps a page, making the page tables the walk lacks (one per missing level). */
static int map_page(seL4_CPtr frame, seL4_Word vaddr, seL4_ARM_VMAttributes attrs) {
  for (unsigned level = 0; level <= SEL4_PT_LEVELS_MAX; level++) {
    int err = seL4_ARM_Page_Map(frame, seL4_CapInitThreadVSpace, vaddr, seL4_ReadWrite, attrs);
    if (err != seL4_FailedLookup) return err;
    seL4_CPtr pt = sel4_object_alloc(seL4_ARM_PageTableObject, 0);
    if (!pt) return seL4_NotEnoughMemory;
    err = seL4_ARM_PageTable_Map(pt, seL4_CapInitThreadVSpace, vaddr, seL4_ARM_Default_VMAttributes);
    if (err != seL4_NoError) return err;
  }
  return seL4_FailedLookup;
}

/* ---- FramePoolOps ---- */

static int pool_retype_frame(void *ctx, FrameCap untyped, FrameCap *out) {
  (void)ctx;
  seL4_CPtr slot = sel4_slot_alloc();
  if (!slot) return -1;
  if (retype((seL4_CPtr)untyped, seL4_ARM_SmallPageObject, 0, slot) != seL4_NoError) {
    g_slot_next--; /* the slot we just took is still empty: give it back */
    return -1;
  }
  *out = slot;
  return 0;
}

static int pool_map(void *ctx, FrameCap frame, uintptr_t vaddr) {
  (void)ctx;
  /* Arenas hold data only: cacheable, never executable. */
  return map_page((seL4_CPtr)frame, vaddr, seL4_ARM_Default_VMAttributes | seL4_ARM_ExecuteNever) == seL4_NoError ? 0 : -1;
}

static void pool_unmap(void *ctx, FrameCap frame) {
  (void)ctx;
  seL4_ARM_Page_Unmap((seL4_CPtr)frame);
}

int sel4_mem_init(seL4_BootInfo *bi, FramePool *pool) {
  g_slot_next = bi->empty.start;
  g_slot_end = bi->empty.end;
  /* The kernel-object untyped: the smallest RAM untyped that is big enough, so arenas keep the big ones. */
  unsigned best = ~0u;
  for (unsigned i = 0; i < bi->untyped.end - bi->untyped.start; i++) {
    const seL4_UntypedDesc *d = &bi->untypedList[i];
    if (d->isDevice || d->sizeBits < SEL4_KERNEL_OBJECTS_UNTYPED_BITS_MIN) continue;
    if (best == ~0u || d->sizeBits < bi->untypedList[best].sizeBits) best = i;
  }
  if (best == ~0u) {
    printf("cohesix-sel4: no RAM untyped of 2^%u bytes for kernel objects\n", SEL4_KERNEL_OBJECTS_UNTYPED_BITS_MIN);
    return -1;
  }
  g_kobj_untyped = bi->untyped.start + best;
  FramePoolOps ops = {NULL, pool_retype_frame, pool_map, pool_unmap};
  if (frame_pool_init(pool, ops, SEL4_ARENA_WINDOW_VADDR, FRAME_POOL_WINDOW_PAGES_MAX) < 0) return -1;
  for (unsigned i = 0; i < bi->untyped.end - bi->untyped.start; i++) {
    const seL4_UntypedDesc *d = &bi->untypedList[i];
    if (d->isDevice || i == best) continue;
    frame_pool_add_untyped(pool, bi->untyped.start + i, d->sizeBits);
  }
  return 0;
}

/* Device untypeds, and the halves left over from earlier splits: the next device page is looked for
   here first, since bootinfo's untyped for it may already be split (PL011 and PL031 share one). */
typedef struct DeviceUntyped {
  seL4_CPtr cap;
  uint64_t paddr;
  unsigned bits;
} DeviceUntyped;
#define SEL4_DEVICE_UNTYPEDS_MAX 256u
static DeviceUntyped g_dev[SEL4_DEVICE_UNTYPEDS_MAX];
static unsigned g_dev_count;

static void device_untypeds_load(seL4_BootInfo *bi) {
  for (unsigned i = 0; i < bi->untyped.end - bi->untyped.start && g_dev_count < SEL4_DEVICE_UNTYPEDS_MAX; i++) {
    const seL4_UntypedDesc *d = &bi->untypedList[i];
    if (d->isDevice) g_dev[g_dev_count++] = (DeviceUntyped){bi->untyped.start + i, d->paddr, d->sizeBits};
  }
}

volatile void *sel4_map_device(seL4_BootInfo *bi, uint64_t paddr) {
  if (!g_dev_count) device_untypeds_load(bi);
  if (g_device_pages >= SEL4_DEVICE_PAGES_MAX) return NULL;
  DeviceUntyped *u = NULL;
  for (unsigned i = 0; i < g_dev_count; i++)
    if (g_dev[i].bits && paddr >= g_dev[i].paddr && paddr < g_dev[i].paddr + (1ull << g_dev[i].bits)) u = &g_dev[i];
  if (!u) return NULL;
  /* Halve towards paddr until one page is left (2 slots per halving); the other halves are kept in g_dev. */
  while (u->bits > seL4_PageBits) {
    seL4_CPtr lo = sel4_slot_alloc(), hi = sel4_slot_alloc();
    if (!lo || hi != lo + 1 || g_dev_count >= SEL4_DEVICE_UNTYPEDS_MAX ||
        seL4_Untyped_Retype(u->cap, seL4_UntypedObject, u->bits - 1, seL4_CapInitThreadCNode, 0, 0, lo, 2))
      return NULL;
    unsigned bits = u->bits - 1;
    uint64_t mid = u->paddr + (1ull << bits);
    int upper = paddr >= mid;
    g_dev[g_dev_count++] = (DeviceUntyped){upper ? lo : hi, upper ? u->paddr : mid, bits};
    *u = (DeviceUntyped){upper ? hi : lo, upper ? mid : u->paddr, bits};
  }
  seL4_CPtr frame = sel4_slot_alloc();
  if (!frame || retype(u->cap, seL4_ARM_SmallPageObject, 0, frame) != seL4_NoError) return NULL;
  u->bits = 0; /* used up */
  seL4_Word va = SEL4_DEVICE_WINDOW_VADDR + (seL4_Word)g_device_pages * FRAME_PAGE_BYTES;
  /* Device registers: uncached (no PageCacheable bit), never executable. */
  if (map_page(frame, va, seL4_ARM_ExecuteNever) != seL4_NoError) return NULL;
  g_device_pages++;
  return (volatile void *)va;
}

/* ---- DMA: frames whose physical addresses a device is told ---- */

static unsigned g_dma_pages;

void *sel4_dma_alloc(unsigned pages, uint64_t *paddrs) {
  if (pages > SEL4_DMA_PAGES_MAX - g_dma_pages) return NULL;
  seL4_Word first = SEL4_DMA_WINDOW_VADDR + (seL4_Word)g_dma_pages * FRAME_PAGE_BYTES;
  for (unsigned i = 0; i < pages; i++) {
    /* From the kernel-object untyped: a few dozen pages, fixed for the root task's life. */
    seL4_CPtr frame = sel4_object_alloc(seL4_ARM_SmallPageObject, 0);
    if (!frame) return NULL;
    seL4_ARM_Page_GetAddress_t a = seL4_ARM_Page_GetAddress(frame);
    if (a.error != seL4_NoError) return NULL;
    /* Cacheable: QEMU's virtio devices (and the coherent DMA of the boards we target) see the CPU's
       caches; a non-coherent board would need uncached pages or cache maintenance here. */
    if (map_page(frame, first + (seL4_Word)i * FRAME_PAGE_BYTES, seL4_ARM_Default_VMAttributes | seL4_ARM_ExecuteNever) !=
        seL4_NoError)
      return NULL;
    paddrs[i] = a.paddr;
  }
  g_dma_pages += pages;
  return (void *)first;
}
