/* The seL4 HAL: both halves of the contract (engine_hal.h, bindings/hal.h) for the root task on
 * qemu-arm-virt: generic-timer clock and deadline interrupt, arenas from the frame pool, the PL011
 * console with receive interrupts, one notification the pump blocks on, and virtio-net + lwIP behind the
 * socket half (net/net_sockets.c; built when the lwIP drop is there, COHESIX_SEL4_NET), and virtio-blk under
 * the slot half (firmware/slot_disk.c's A/B slots on the disk; a request waits for the device's interrupt). */
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "hal.h"
#include "limits.h"
#include "online.h"
#include "ring.h"
#include "sel4_platform.h"
#include "timer_math.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
#if COHESIX_SEL4_NET
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "net_sockets.h"
#include "virtio_netif.h"
#endif

/* Board facts (boards/qemu-virt-aarch64/README.md). */
#define QEMU_VIRT_PL011_PADDR 0x09000000ull
#define QEMU_VIRT_PL031_PADDR 0x09010000ull
#define QEMU_VIRT_PL011_IRQ 33u  /* SPI 1 */
#define ARM_PHYS_TIMER_IRQ 30u   /* PPI 14: the EL1 physical timer; the kernel keeps the virtual one */
#define PL031_DR 0x00u           /* RTC data register: seconds since the epoch */

/* Notification badges: one bit per interrupt source. */
#define BADGE_UART 0x1u
#define BADGE_TIMER 0x2u
#define BADGE_NET 0x4u
#define BADGE_BLK 0x8u

/* The board's static IPv4 (QEMU user networking: the guest is 10.0.2.15/24, the gateway and the
   host's forwarded ports come from 10.0.2.2; boards/qemu-virt-aarch64/README.md). */
#define QEMU_VIRT_NET_ADDRESS {10, 0, 2, 15}
#define QEMU_VIRT_NET_NETMASK {255, 255, 255, 0}
#define QEMU_VIRT_NET_GATEWAY {10, 0, 2, 2}

/* Received bytes waiting for the console task; an operator types far less between two pump turns. */
#define UART_RX_RING_BYTES 4096u

/* CNTP_CTL_EL0 bits. */
#define CNTP_CTL_ENABLE 0x1u
#define CNTP_CTL_IMASK 0x2u

static FramePool g_pool;
static Pl011 g_uart;
static int g_uart_ready;
static ByteRing g_rx;
static uint8_t g_rx_buf[UART_RX_RING_BYTES];
static volatile uint32_t *g_uart_regs;
static seL4_CPtr g_ntfn, g_uart_irq, g_timer_irq;
static uint64_t g_freq_hz, g_boot_ticks, g_boot_wall_ms;

#if COHESIX_SEL4_NET
static VirtioNet g_net_dev;
static VirtioNetif g_netif;
static seL4_CPtr g_net_irq;
static int g_net_ready;
/* The last poll stopped at its bound with frames left: the device raises no interrupt for them. */
static int g_net_backlog;
#endif
/* Why there is no network, for hal_net_listen's refusal (empty once the device is up). */
static char g_net_off_reason[96] = "no network device on this board";

/* ---- generic timer (EL0 access exported by KernelArmExportPCNTUser / KernelArmExportPTMRUser) ---- */

static inline uint64_t cntpct(void) {
  uint64_t v;
  __asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v));
  return v;
}

static inline uint64_t cntfrq(void) {
  uint64_t v;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
  return v;
}

static inline void cntp_arm(uint64_t cval) {
  __asm__ volatile("msr cntp_cval_el0, %0" ::"r"(cval));
  __asm__ volatile("msr cntp_ctl_el0, %0" ::"r"((uint64_t)CNTP_CTL_ENABLE));
  __asm__ volatile("isb");
}

static inline void cntp_disarm(void) {
  __asm__ volatile("msr cntp_ctl_el0, %0" ::"r"((uint64_t)CNTP_CTL_IMASK));
  __asm__ volatile("isb");
}

/* ---- PL011 register access ---- */

static uint32_t mmio_read(void *ctx, uint32_t off) { return ((volatile uint32_t *)ctx)[off / 4u]; }
static void mmio_write(void *ctx, uint32_t off, uint32_t v) { ((volatile uint32_t *)ctx)[off / 4u] = v; }

/* ---- set-up ---- */

static seL4_CPtr irq_to_notification(seL4_Word irq, seL4_Word badge) {
  seL4_CPtr handler = sel4_slot_alloc(), badged = sel4_slot_alloc();
  if (!handler || !badged) return 0;
  if (seL4_IRQControl_Get(seL4_CapIRQControl, irq, seL4_CapInitThreadCNode, handler, seL4_WordBits)) return 0;
  if (seL4_CNode_Mint(seL4_CapInitThreadCNode, badged, seL4_WordBits, seL4_CapInitThreadCNode, g_ntfn, seL4_WordBits,
                      seL4_AllRights, badge))
    return 0;
  if (seL4_IRQHandler_SetNotification(handler, badged)) return 0;
  seL4_IRQHandler_Ack(handler);
  return handler;
}

/* ---- the virtio-mmio window: mapped once, probed by virtio-net and virtio-blk alike ---- */

static volatile uint8_t *g_virtio_window;
static int g_virtio_window_tried;

static uint32_t virtio_read(void *ctx, uint32_t off) { return ((volatile uint32_t *)ctx)[off / 4u]; }
static void virtio_write(void *ctx, uint32_t off, uint32_t v) { ((volatile uint32_t *)ctx)[off / 4u] = v; }

/* The whole window, page by page (sel4_map_device gives consecutive addresses); NULL if it cannot be. */
static volatile uint8_t *virtio_window(seL4_BootInfo *bi) {
  if (g_virtio_window_tried) return g_virtio_window;
  g_virtio_window_tried = 1;
  volatile uint8_t *window = NULL;
  for (uint32_t off = 0; off < VIRTIO_MMIO_WINDOW_BYTES; off += FRAME_PAGE_BYTES) {
    volatile uint8_t *page = sel4_map_device(bi, VIRTIO_MMIO_WINDOW_PADDR + off);
    if (!page || (window && page != window + off)) return NULL;
    if (!window) window = page;
  }
  g_virtio_window = window;
  return window;
}

/* ---- virtio-net + lwIP (a failure leaves the UART console alone: the listeners are refused, with why) ---- */

#if COHESIX_SEL4_NET

static void net_off(const char *why, int code) {
  snprintf(g_net_off_reason, sizeof g_net_off_reason, "%s%s%s", why, code ? ": " : "",
           code ? virtio_net_error_name(code) : "");
  char line[160];
  int n = snprintf(line, sizeof line, "hal: network off: %s", g_net_off_reason);
  hal_log_write(line, (size_t)n);
}

static void net_init(seL4_BootInfo *bi) {
  volatile uint8_t *window = virtio_window(bi);
  if (!window) return net_off("cannot map the virtio-mmio window", 0);
  VirtioMmioDev dev;
  int rc = virtio_mmio_find((VirtioMmioIo){(void *)window, virtio_read, virtio_write}, VIRTIO_DEVICE_ID_NET, &dev);
  if (rc < 0) return net_off("no virtio-net device", rc);
  static VirtioNetDma dma;
  dma.vaddr = sel4_dma_alloc(VIRTIO_NET_DMA_PAGES, dma.page_paddr);
  if (!dma.vaddr) return net_off("no memory for virtio-net's DMA pages", 0);
  g_net_irq = irq_to_notification(virtio_mmio_irq(&dev), BADGE_NET);
  if (!g_net_irq) return net_off("cannot route virtio-net's interrupt", 0);
  rc = virtio_net_init(&g_net_dev, &dev, &dma);
  if (rc < 0) return net_off("virtio-net refused", rc);
  virtio_netif_seed(cntpct());
  lwip_init();
  net_sockets_init();
  VirtioNetifConfig cfg = {QEMU_VIRT_NET_ADDRESS, QEMU_VIRT_NET_NETMASK, QEMU_VIRT_NET_GATEWAY};
  if (virtio_netif_add(&g_netif, &g_net_dev, &cfg) < 0) return net_off("lwIP refused the interface", 0);
  g_net_ready = 1;
  g_net_off_reason[0] = 0;
  const uint8_t *m = g_net_dev.mac;
  printf("cohesix-sel4: virtio-net in slot %u (IRQ %u), MAC %02x:%02x:%02x:%02x:%02x:%02x, 10.0.2.15/24 via 10.0.2.2\n",
         dev.slot, (unsigned)virtio_mmio_irq(&dev), m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* lwIP's turn: frames in (bounded), its timers. Returns whether any handle is ready. */
static unsigned net_service(void) {
  if (!g_net_ready) return 0;
  g_net_backlog = virtio_netif_poll(&g_netif) >= VIRTIO_NET_RX_POLL_FRAMES_MAX;
  sys_check_timeouts();
  return net_sockets_collect();
}

/* The pump's deadline, brought forward to lwIP's next timer. */
static uint64_t net_deadline(uint64_t deadline_us, uint64_t now_us) {
  if (!g_net_ready) return deadline_us;
  u32_t ms = sys_timeouts_sleeptime();
  if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return deadline_us;
  uint64_t at = now_us + (uint64_t)ms * 1000u;
  return deadline_us == HAL_DEADLINE_NONE || at < deadline_us ? at : deadline_us;
}
#else
static void net_init(seL4_BootInfo *bi) {
  (void)bi;
  snprintf(g_net_off_reason, sizeof g_net_off_reason, "no network stack in this build (the lwIP drop was missing)");
}
#endif

/* ---- virtio-blk: the slot disk. Every request is synchronous (boot reads, an update's writes inside a
   pump turn): it waits on the pump's notification for the device's badge, with the timer armed for
   its deadline; other badges that arrive meanwhile are taken as hal_wait_until takes them. ---- */

/* A request the device has not answered by then is called lost (QEMU answers in microseconds; a
   host under load in milliseconds). */
#define BLK_REQUEST_TIMEOUT_US 5000000u
/* How long a request polls the used ring before it waits for the interrupt. */
#define BLK_SPIN_US 200u
#define BLK_SECTORS_PER_REQUEST (VIRTIO_BLK_REQ_BYTES_MAX / SLOT_DISK_SECTOR_BYTES)
_Static_assert(VIRTIO_BLK_SECTOR_BYTES == SLOT_DISK_SECTOR_BYTES, "the slot disk's sectors are the device's");

static VirtioBlk g_blk;
static seL4_CPtr g_blk_irq;
static BlockDev g_blk_dev;
static SlotDisk g_disk;
static int g_disk_open;
/* Why there is no slot disk, for the boot line that names the factory image. */
static char g_disk_why[SLOT_WHY_BYTES_MAX] = "no virtio-blk disk attached";

static void take_badges(seL4_Word badge);

static int blk_request(uint32_t type, uint64_t lba, uint8_t *buf, uint32_t bytes) {
  int id = virtio_blk_submit(&g_blk, type, lba, buf, bytes);
  if (id < 0) return id;
  uint64_t spin_until = hal_clock_us() + BLK_SPIN_US, deadline = spin_until - BLK_SPIN_US + BLK_REQUEST_TIMEOUT_US;
  for (;;) {
    /* The used ring first: an answer that came before the wait has its badge waiting too. */
    virtio_blk_poll(&g_blk);
    if (virtio_blk_done(&g_blk, id)) break;
    uint64_t now = hal_clock_us();
    if (now >= deadline) return VIRTIO_BLK_E_LOST; /* the request stays busy: the device may still answer */
    /* QEMU answers most requests within tens of microseconds: a short spin saves the interrupt's round
       trip (GIC, kernel, notification), which costs more than the answer. */
    if (now < spin_until) continue;
    cntp_arm(g_boot_ticks + timer_us_to_ticks(deadline, g_freq_hz));
    seL4_Word badge = 0;
    seL4_Wait(g_ntfn, &badge);
    cntp_disarm();
    take_badges(badge);
  }
  return virtio_blk_collect(&g_blk, id, type == VIRTIO_BLK_T_IN ? buf : NULL);
}

static int blk_log_error(const char *what, uint64_t lba, int rc) {
  char line[128];
  int n = snprintf(line, sizeof line, "hal: virtio-blk %s at sector %llu: %s", what, (unsigned long long)lba,
                   virtio_blk_error_name(rc));
  hal_log_write(line, (size_t)n);
  return -1;
}

static int blk_rw(uint32_t type, uint64_t lba, uint8_t *buf, uint32_t count) {
  while (count) {
    uint32_t n = count < BLK_SECTORS_PER_REQUEST ? count : BLK_SECTORS_PER_REQUEST;
    int rc = blk_request(type, lba, buf, n * SLOT_DISK_SECTOR_BYTES);
    if (rc < 0) return blk_log_error(type == VIRTIO_BLK_T_IN ? "read" : "write", lba, rc);
    lba += n;
    buf += (size_t)n * SLOT_DISK_SECTOR_BYTES;
    count -= n;
  }
  return 0;
}

static int blk_read(void *ctx, uint64_t lba, uint8_t *buf, uint32_t count) {
  (void)ctx;
  return blk_rw(VIRTIO_BLK_T_IN, lba, buf, count);
}

static int blk_write(void *ctx, uint64_t lba, const uint8_t *buf, uint32_t count) {
  (void)ctx;
  /* The driver copies a write's bytes into its DMA page before the device sees them: buf is only read. */
  return blk_rw(VIRTIO_BLK_T_OUT, lba, (uint8_t *)(uintptr_t)buf, count);
}

static int blk_flush(void *ctx) {
  (void)ctx;
  /* Without FLUSH the device has no volatile cache to empty (virtio 5.2.5.2): writes are durable. */
  if (!(g_blk.features & VIRTIO_BLK_F_FLUSH)) return 0;
  int rc = blk_request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
  return rc < 0 ? blk_log_error("flush", 0, rc) : 0;
}

static void blk_init(seL4_BootInfo *bi) {
  volatile uint8_t *window = virtio_window(bi);
  if (!window) {
    snprintf(g_disk_why, sizeof g_disk_why, "cannot map the virtio-mmio window");
    return;
  }
  VirtioMmioDev dev;
  int rc = virtio_mmio_find((VirtioMmioIo){(void *)window, virtio_read, virtio_write}, VIRTIO_DEVICE_ID_BLOCK, &dev);
  if (rc == VIRTIO_E_NOT_FOUND) return; /* no disk: g_disk_why says so already */
  if (rc < 0) {
    snprintf(g_disk_why, sizeof g_disk_why, "virtio-blk refused: %s", virtio_blk_error_name(rc));
    return;
  }
  static VirtioBlkDma dma;
  dma.vaddr = sel4_dma_alloc(VIRTIO_BLK_DMA_PAGES, dma.page_paddr);
  if (!dma.vaddr) {
    snprintf(g_disk_why, sizeof g_disk_why, "no memory for virtio-blk's DMA pages");
    return;
  }
  g_blk_irq = irq_to_notification(virtio_mmio_irq(&dev), BADGE_BLK);
  if (!g_blk_irq) {
    snprintf(g_disk_why, sizeof g_disk_why, "cannot route virtio-blk's interrupt");
    return;
  }
  rc = virtio_blk_init(&g_blk, &dev, &dma);
  if (rc < 0) {
    snprintf(g_disk_why, sizeof g_disk_why, "virtio-blk refused: %s", virtio_blk_error_name(rc));
    return;
  }
  printf("cohesix-sel4: virtio-blk in slot %u (IRQ %u), %llu sectors of %u bytes%s\n", dev.slot,
         (unsigned)virtio_mmio_irq(&dev), (unsigned long long)g_blk.capacity_sectors, VIRTIO_BLK_SECTOR_BYTES,
         (g_blk.features & VIRTIO_BLK_F_FLUSH) ? ", write cache flushed on demand" : "");
  g_blk_dev = (BlockDev){NULL, g_blk.capacity_sectors, blk_read, blk_write, blk_flush};
  char err[SLOT_WHY_BYTES_MAX];
  if (slot_disk_open(&g_disk, &g_blk_dev, err, sizeof err) < 0) {
    snprintf(g_disk_why, sizeof g_disk_why, "%s", err);
    return;
  }
  g_disk_open = 1;
  g_disk_why[0] = 0;
}

SlotDisk *sel4_slot_disk(const char **why) {
  *why = g_disk_why;
  return g_disk_open ? &g_disk : NULL;
}

int sel4_hal_init(seL4_BootInfo *bi) {
  g_freq_hz = cntfrq();
  g_boot_ticks = cntpct();
  cntp_disarm();
  if (sel4_mem_init(bi, &g_pool) < 0) return -1;

  g_uart_regs = sel4_map_device(bi, QEMU_VIRT_PL011_PADDR);
  if (!g_uart_regs) {
    printf("cohesix-sel4: cannot map the PL011 at 0x%llx\n", (unsigned long long)QEMU_VIRT_PL011_PADDR);
    return -1;
  }
  ring_init(&g_rx, g_rx_buf, UART_RX_RING_BYTES);
  pl011_init(&g_uart, (Pl011Io){(void *)g_uart_regs, mmio_read, mmio_write}, &g_rx);
  g_uart_ready = 1;

  /* Wall clock: the PL031 RTC once at boot (QEMU sets it to the host's time), then the monotonic clock. */
  volatile uint32_t *rtc = sel4_map_device(bi, QEMU_VIRT_PL031_PADDR);
  g_boot_wall_ms = rtc ? (uint64_t)rtc[PL031_DR / 4u] * 1000u : 0;

  g_ntfn = sel4_object_alloc(seL4_NotificationObject, 0);
  if (!g_ntfn) {
    printf("cohesix-sel4: cannot make the event notification\n");
    return -1;
  }
  g_uart_irq = irq_to_notification(QEMU_VIRT_PL011_IRQ, BADGE_UART);
  g_timer_irq = irq_to_notification(ARM_PHYS_TIMER_IRQ, BADGE_TIMER);
  if (!g_uart_irq || !g_timer_irq) {
    printf("cohesix-sel4: cannot route IRQ %u (uart) / %u (timer) to the notification\n", QEMU_VIRT_PL011_IRQ,
           ARM_PHYS_TIMER_IRQ);
    return -1;
  }
  net_init(bi);
  blk_init(bi);
  return 0;
}

FramePoolStats sel4_hal_pool_stats(void) { return frame_pool_stats(&g_pool); }

void platform_console_write(const char *s, size_t len);
void platform_console_write(const char *s, size_t len) {
  if (g_uart_ready) {
    pl011_write(&g_uart, (const uint8_t *)s, len);
    return;
  }
#ifdef CONFIG_PRINTING
  for (size_t i = 0; i < len; i++) seL4_DebugPutChar(s[i]); /* before the UART is ours: the kernel's printer */
#endif
}

/* ---- engine half ---- */

uint64_t hal_clock_us(void) { return timer_ticks_to_us(cntpct() - g_boot_ticks, g_freq_hz); }

/* The pump is the root task's only thread and nothing preempts it: its monotonic time is its CPU time. */
uint64_t hal_thread_cpu_us(void) { return HAL_THREAD_CPU_NONE; }

uint64_t hal_wall_ms(void) { return g_boot_wall_ms + hal_clock_us() / 1000u; }

void *hal_mem_alloc(size_t bytes) { return frame_pool_alloc(&g_pool, bytes); }

void hal_mem_free(void *mem, size_t bytes) {
  if (frame_pool_free(&g_pool, mem, bytes) < 0) {
    char line[96];
    int n = snprintf(line, sizeof line, "hal: free of %p (%zu bytes) is not an arena: ignored", mem, bytes);
    hal_log_write(line, (size_t)n);
  }
}

/* A trial boot not online by this clock reading resets, so the next boot falls back (0: no trial). */
static uint64_t g_trial_deadline_us;

void sel4_trial_watchdog(uint64_t deadline_us) { g_trial_deadline_us = deadline_us; }

void hal_wait_until(uint64_t deadline_us) {
  if (g_trial_deadline_us && !firmware_is_online()) {
    if (hal_clock_us() >= g_trial_deadline_us) {
      g_trial_deadline_us = 0;
      printf("cohesix-sel4: slots: the trial slot did not reach online in time: resetting; the next boot falls back\n");
      hal_restart();
      return;
    }
    if (deadline_us == HAL_DEADLINE_NONE || g_trial_deadline_us < deadline_us) deadline_us = g_trial_deadline_us;
  }
  /* Bytes the last drain's bound left in the FIFO raise no interrupt of their own: take them now. */
  if (pl011_rx_backlog(&g_uart)) pl011_rx_drain(&g_uart);
  /* Input already in the ring is an event: the pump must read it before we sleep. */
  if (ring_used(&g_rx)) return;
  uint64_t now = hal_clock_us();
#if COHESIX_SEL4_NET
  /* So is a ready socket (level, as epoll on the host), and frames a bounded poll left behind. */
  if (net_service() || g_net_backlog) return;
  deadline_us = net_deadline(deadline_us, now);
#endif
  if (deadline_us != HAL_DEADLINE_NONE) {
    if (deadline_us <= now) return;
    cntp_arm(g_boot_ticks + timer_us_to_ticks(deadline_us, g_freq_hz));
  }
  seL4_Word badge = 0;
  seL4_Wait(g_ntfn, &badge);
  cntp_disarm();
  take_badges(badge);
#if COHESIX_SEL4_NET
  net_service();
#endif
}

/* Acknowledges what woke a wait (hal_wait_until's, or a disk request's): UART bytes into the ring, the
   devices' level-triggered lines lowered. The work they announce (input, frames) is the pump's. */
static void take_badges(seL4_Word badge) {
  if (badge & BADGE_UART) {
    pl011_rx_drain(&g_uart);
    seL4_IRQHandler_Ack(g_uart_irq);
  }
  if (badge & BADGE_TIMER) seL4_IRQHandler_Ack(g_timer_irq); /* level-triggered: disarmed by the caller first */
#if COHESIX_SEL4_NET
  if (badge & BADGE_NET) {
    /* The device's status first (it lowers the level-triggered line), then the GIC. */
    virtio_net_irq_ack(&g_net_dev);
    seL4_IRQHandler_Ack(g_net_irq);
  }
#endif
  if ((badge & BADGE_BLK) && g_blk_irq) {
    virtio_blk_irq_ack(&g_blk);
    seL4_IRQHandler_Ack(g_blk_irq);
  }
}

/* ---- UART and log ---- */

size_t hal_uart_read(uint8_t *buf, size_t cap) { return ring_get(&g_rx, buf, cap); }

void hal_uart_write(const uint8_t *buf, size_t len) { platform_console_write((const char *)buf, len); }

void hal_log_write(const char *line, size_t len) {
  /* One serial line for both: log lines are marked so an operator (and the harness) can tell them apart. */
  if (len > LOG_LINE_BYTES_MAX) len = LOG_LINE_BYTES_MAX;
  platform_console_write("[log] ", 6);
  platform_console_write(line, len);
  platform_console_write("\r\n", 2);
}

/* ---- sockets: net/net_sockets.c over lwIP (which refuses listeners while the device is down: the boot
   log said why); without lwIP in the build, every listen is refused here, with the reason ---- */

#if !COHESIX_SEL4_NET
int hal_net_listen(const char *host, uint16_t port) {
  char line[192];
  int n = snprintf(line, sizeof line, "hal: net listen %s:%u refused: %s (use the UART console)", host, (unsigned)port,
                   g_net_off_reason);
  hal_log_write(line, (size_t)n);
  return HAL_E_INVAL;
}

int hal_net_accept(int listener, char *peer, size_t peer_len) {
  (void)listener;
  if (peer_len) peer[0] = 0;
  return HAL_E_INVAL;
}

long hal_net_recv(int sock, uint8_t *buf, size_t cap) {
  (void)sock;
  (void)buf;
  (void)cap;
  return HAL_E_INVAL;
}

long hal_net_send(int sock, const uint8_t *buf, size_t len) {
  (void)sock;
  (void)buf;
  (void)len;
  return HAL_E_INVAL;
}

void hal_net_close(int handle) { (void)handle; }

int hal_net_local_port(int listener) {
  (void)listener;
  return HAL_E_INVAL;
}

void hal_net_want_write(int sock, int on) {
  (void)sock;
  (void)on;
}

void hal_net_want_read(int sock, int on) {
  (void)sock;
  (void)on;
}

unsigned hal_net_ready(int handle) {
  (void)handle;
  return 0;
}
#endif

/*
 * Slot storage on the virtio-blk disk (firmware/slot_disk.c), as host/sim/slots_hal_posix.c does for
 * --slot-disk: the disk has no room for a staged third copy, so an update is written into the slot
 * that is not running, recorded empty first, so no record ever names half an image.
 */
static struct {
  const SlotStore *store;
  SlotId booted;
  SlotId slot;
  uint32_t bytes;
  int staged;
  int restart;
} g_ota;

void sel4_slots_serve(const SlotStore *store, SlotId booted) {
  g_ota.store = store;
  g_ota.booted = booted;
}

int sel4_restart_requested(void) { return g_ota.restart; }

SlotId hal_slots_booted(void) { return g_ota.store ? g_ota.booted : SLOT_NONE; }
const SlotStore *hal_slots_store(void) { return g_ota.store; }

/* Every refusal here reads "slots: <detail>". */
static int slots_fail(char *err, size_t err_len, const char *detail) {
  snprintf(err, err_len, "slots: %s", detail);
  return -1;
}

void hal_slot_stage_drop(void) { g_ota.staged = 0; /* the slot was recorded empty when staging began; it stays so */ }

int hal_slot_stage_open(SlotId slot, uint32_t bytes, char *err, size_t err_len) {
  if (!g_ota.store) return slots_fail(err, err_len, g_disk_open ? "the firmware did not boot from slots" : g_disk_why);
  if (slot == g_ota.booted || (slot != SLOT_A && slot != SLOT_B)) return slots_fail(err, err_len, "that slot is running: it cannot be staged into");
  hal_slot_stage_drop();
  if ((uint64_t)bytes > g_disk.slot_sectors * SLOT_DISK_SECTOR_BYTES) return slots_fail(err, err_len, "the image does not fit a slot");
  if (g_disk.image_bytes[slot] && slot_disk_set_image_bytes(&g_disk, slot, 0, err, err_len) < 0) return -1;
  g_ota.slot = slot;
  g_ota.bytes = bytes;
  g_ota.staged = 1;
  return 0;
}

int hal_slot_stage_write(uint32_t offset, const uint8_t *data, size_t len, char *err, size_t err_len) {
  if (!g_ota.staged) return slots_fail(err, err_len, "nothing is staged");
  if ((uint64_t)offset + len > g_ota.bytes) return slots_fail(err, err_len, "write past the bytes staged");
  return slot_disk_write_image(&g_disk, g_ota.slot, offset, data, len, err, err_len);
}

int hal_slot_stage_read(uint32_t offset, uint8_t *buf, size_t len, char *err, size_t err_len) {
  if (!g_ota.staged) return slots_fail(err, err_len, "nothing is staged");
  if (slot_disk_flush(&g_disk, err, err_len) < 0) return -1;
  return slot_disk_read_image(&g_disk, g_ota.slot, offset, buf, len, err, err_len);
}

int hal_slot_stage_install(char *err, size_t err_len) {
  if (!g_ota.staged) return slots_fail(err, err_len, "nothing is staged");
  if (slot_disk_flush(&g_disk, err, err_len) < 0) return -1;
  if (slot_disk_set_image_bytes(&g_disk, g_ota.slot, g_ota.bytes, err, err_len) < 0) return -1;
  g_ota.staged = 0;
  return 0;
}

/* QEMU's virt board (secure=off, no EL2) offers PSCI through HVC only, which seL4 keeps for itself, and
   KernelAllowSMCCalls would need the SMC conduit (virtualization=on: another kernel and DTB). So the
   root task stops the pump, prints SEL4_RESET_LINE and halts; the launcher stands in for the reset
   line (boards/qemu-virt-aarch64/qemu.sh --disk restarts QEMU on that line). */
void hal_restart(void) {
  g_ota.restart = 1;
  firmware_stop();
}
