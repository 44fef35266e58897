/* The seL4 HAL: both halves of the contract (engine_hal.h, bindings/hal.h) for the root task on
 * qemu-arm-virt: generic-timer clock and deadline interrupt, arenas from the frame pool, the PL011
 * console with receive interrupts, one notification the pump blocks on, and no network yet. */
#include <stdio.h>
#include <string.h>

#include "hal.h"
#include "limits.h"
#include "ring.h"
#include "sel4_platform.h"
#include "timer_math.h"

/* Board facts (boards/qemu-virt-aarch64/README.md). */
#define QEMU_VIRT_PL011_PADDR 0x09000000ull
#define QEMU_VIRT_PL031_PADDR 0x09010000ull
#define QEMU_VIRT_PL011_IRQ 33u  /* SPI 1 */
#define ARM_PHYS_TIMER_IRQ 30u   /* PPI 14: the EL1 physical timer; the kernel keeps the virtual one */
#define PL031_DR 0x00u           /* RTC data register: seconds since the epoch */

/* Notification badges: one bit per interrupt source. */
#define BADGE_UART 0x1u
#define BADGE_TIMER 0x2u

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

void hal_wait_until(uint64_t deadline_us) {
  /* Bytes the last drain's bound left in the FIFO raise no interrupt of their own: take them now. */
  if (pl011_rx_backlog(&g_uart)) pl011_rx_drain(&g_uart);
  /* Input already in the ring is an event: the pump must read it before we sleep. */
  if (ring_used(&g_rx)) return;
  uint64_t now = hal_clock_us();
  if (deadline_us != HAL_DEADLINE_NONE) {
    if (deadline_us <= now) return;
    cntp_arm(g_boot_ticks + timer_us_to_ticks(deadline_us, g_freq_hz));
  }
  seL4_Word badge = 0;
  seL4_Wait(g_ntfn, &badge);
  cntp_disarm();
  if (badge & BADGE_UART) {
    pl011_rx_drain(&g_uart);
    seL4_IRQHandler_Ack(g_uart_irq);
  }
  if (badge & BADGE_TIMER) seL4_IRQHandler_Ack(g_timer_irq); /* level-triggered: disarmed above first */
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

/* ---- sockets: none until virtio-net + a TCP/IP stack land (sel4-platform/README.md, "Network") ---- */

int hal_net_listen(const char *host, uint16_t port) {
  char line[128];
  int n = snprintf(line, sizeof line, "hal: net listen %s:%u refused: no network device on this board yet (use the UART console)",
                   host, (unsigned)port);
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

/*
 * Slot storage: the seL4 port boots the image linked into the root task (the factory image) until the
 * virtio-blk driver and the on-disk slot layout land (issue 16), so it reports no slots and every update
 * is refused with detail=no-slots. hal_restart will make a PSCI SYSTEM_RESET there.
 */
SlotId hal_slots_booted(void) { return SLOT_NONE; }
const SlotStore *hal_slots_store(void) { return NULL; }
int hal_slot_stage_open(SlotId slot, uint32_t bytes, char *err, size_t err_len) {
  (void)slot;
  (void)bytes;
  snprintf(err, err_len, "slots: no slot storage on this board yet");
  return -1;
}
int hal_slot_stage_write(uint32_t offset, const uint8_t *data, size_t len, char *err, size_t err_len) {
  (void)offset;
  (void)data;
  (void)len;
  snprintf(err, err_len, "slots: no slot storage on this board yet");
  return -1;
}
int hal_slot_stage_read(uint32_t offset, uint8_t *buf, size_t len, char *err, size_t err_len) {
  (void)offset;
  (void)buf;
  (void)len;
  snprintf(err, err_len, "slots: no slot storage on this board yet");
  return -1;
}
int hal_slot_stage_install(char *err, size_t err_len) {
  snprintf(err, err_len, "slots: no slot storage on this board yet");
  return -1;
}
void hal_slot_stage_drop(void) {}
void hal_restart(void) {}
