/* What the seL4 root task's pieces share: capability slots, memory set-up, the devices' state. */
#ifndef COHESIX_SEL4_PLATFORM_H
#define COHESIX_SEL4_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include <sel4/sel4.h>

#include "frame_pool.h"
#include "pl011.h"
#include "slot_disk.h"

/* Virtual layout of the root task beyond its ELF image (board facts: boards/qemu-virt-aarch64/README.md). */
#define SEL4_ARENA_WINDOW_VADDR 0x2000000000ull /* task arenas: FRAME_POOL_WINDOW_PAGES_MAX pages */
#define SEL4_DEVICE_WINDOW_VADDR 0x3000000000ull /* device registers, one page each, uncached */
#define SEL4_DEVICE_PAGES_MAX 8u /* PL011, PL031, the virtio-mmio window (4 pages), two spare */
#define SEL4_DMA_WINDOW_VADDR 0x3100000000ull /* pages devices reach by physical address */
#define SEL4_DMA_PAGES_MAX 64u /* virtio-net needs VIRTIO_NET_DMA_PAGES (38), virtio-blk VIRTIO_BLK_DMA_PAGES (20) */
/* Untyped kept aside for paging structures, notifications and device splits (never given to arenas). */
#define SEL4_KERNEL_OBJECTS_UNTYPED_BITS_MIN 21u /* 2 MiB: ~500 page tables, far above what 128 MiB needs */

/* Capability slots: handed out from bootinfo's empty range, never returned (set-up and frames only). */
seL4_CPtr sel4_slot_alloc(void);
/* Retypes one fixed-size kernel object from the reserved untyped into a new slot; 0 on failure. */
seL4_CPtr sel4_object_alloc(seL4_Word type, seL4_Word size_bits);

/* Sorts bootinfo's untypeds: one reserved for kernel objects, the rest (RAM) into the frame pool.
   Returns 0, or -1 with a reason on the console. */
int sel4_mem_init(seL4_BootInfo *bi, FramePool *pool);
/* Maps the 4 KiB device page at paddr (from the device untyped that covers it), uncached; NULL if none. */
volatile void *sel4_map_device(seL4_BootInfo *bi, uint64_t paddr);

/* Maps `pages` new frames contiguously in the DMA window and writes each one's physical address
   to paddrs[i]; the frames come from the kernel-object untyped and are never freed. NULL if short. */
void *sel4_dma_alloc(unsigned pages, uint64_t *paddrs);

/* The HAL's set-up (hal_sel4.c): devices, interrupts, the notification the pump waits on. */
int sel4_hal_init(seL4_BootInfo *bi);
/* The slot disk on virtio-blk, opened at set-up; NULL when there is none, *why saying why (no disk
   attached, not a slot disk...). */
SlotDisk *sel4_slot_disk(const char **why);
/* The root task booted `booted` from the disk: the slot HAL serves updates over `store` from now on. */
void sel4_slots_serve(const SlotStore *store, SlotId booted);
/* A trial boot resets when it is not online by this hal_clock_us() reading. */
void sel4_trial_watchdog(uint64_t deadline_us);
/* An installed update asked for a reset (hal_restart); the pump has stopped. */
int sel4_restart_requested(void);
/* What the root task prints when it wants a reset the board cannot make from user mode: the launcher
   restarts QEMU on this line (boards/qemu-virt-aarch64/qemu.sh --disk). */
#define SEL4_RESET_LINE "cohesix-sel4: reset requested"

/* For the boot report. */
FramePoolStats sel4_hal_pool_stats(void);

#endif
