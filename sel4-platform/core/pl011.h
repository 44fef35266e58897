/* PL011 UART driver logic over a register accessor (MMIO on seL4, a model in tests); no seL4 includes. */
#ifndef COHESIX_SEL4_PL011_H
#define COHESIX_SEL4_PL011_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Register offsets (ARM PrimeCell UART PL011 TRM, table 3-1). */
#define PL011_DR 0x00u
#define PL011_FR 0x18u
#define PL011_IBRD 0x24u
#define PL011_FBRD 0x28u
#define PL011_LCR_H 0x2cu
#define PL011_CR 0x30u
#define PL011_IMSC 0x38u
#define PL011_MIS 0x40u
#define PL011_ICR 0x44u

#define PL011_FR_RXFE (1u << 4) /* receive FIFO empty */
#define PL011_FR_TXFF (1u << 5) /* transmit FIFO full */
#define PL011_LCR_H_WLEN8 (3u << 5)
#define PL011_LCR_H_FEN (1u << 4)
#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_TXE (1u << 8)
#define PL011_CR_RXE (1u << 9)
#define PL011_INT_RX (1u << 4)  /* receive (FIFO level) */
#define PL011_INT_RT (1u << 6)  /* receive timeout: bytes sit below the level */
#define PL011_INT_ALL 0x7ffu
/* DR bits 8..11 are framing/parity/break/overrun flags; the byte is bits 0..7. */
#define PL011_DR_ERROR_MASK 0xf00u

/* Bytes one interrupt may move out of the FIFO: the hardware FIFO is 32 deep; the bound keeps a
   jabbering line from holding the pump. */
#define PL011_RX_DRAIN_BYTES_MAX 64u
/* Busy-wait turns for a full transmit FIFO before a byte is given up (a dead line must not hang the firmware). */
#define PL011_TX_SPIN_MAX 100000u

typedef struct Pl011Io {
  void *ctx;
  uint32_t (*read)(void *ctx, uint32_t offset);
  void (*write)(void *ctx, uint32_t offset, uint32_t value);
} Pl011Io;

typedef struct Pl011Stats {
  uint64_t rx_bytes;
  uint64_t rx_errors;   /* bytes that came with a framing/parity/overrun flag (dropped) */
  uint64_t tx_bytes;
  uint64_t tx_dropped;  /* bytes given up after PL011_TX_SPIN_MAX */
} Pl011Stats;

typedef struct Pl011 {
  Pl011Io io;
  ByteRing *rx;
  Pl011Stats stats;
  int last_was_cr; /* line discipline state: a CR was just turned into LF */
  int rx_backlog;  /* the last drain stopped at its bound with bytes still in the FIFO */
} Pl011;

/* Programs 8N1, FIFO off (one interrupt per byte keeps latency low on a console), RX interrupts on. */
void pl011_init(Pl011 *u, Pl011Io io, ByteRing *rx);
/* The receive interrupt: clears RX/RT, then moves what the FIFO holds into the ring (at most
   PL011_RX_DRAIN_BYTES_MAX). Returns bytes moved. Clearing comes first: a byte arriving during the
   drain raises RX again, and one left behind by the bound is flagged (pl011_rx_backlog), so no byte
   ever waits with the interrupt cleared (QEMU's PL011 raises RX only when a byte arrives, and with
   its FIFO off none can arrive while one waits: input would stop for good).
   Line discipline (a tty's ICRNL): a terminal's Enter sends CR, the console ends lines at LF, so CR
   becomes LF and the LF of a CR LF pair is dropped. */
size_t pl011_rx_drain(Pl011 *u);
/* Whether bytes wait in the FIFO that no interrupt will announce: the pump drains again before it sleeps. */
int pl011_rx_backlog(const Pl011 *u);
/* Writes len bytes, waiting (bounded) on a full FIFO. Returns bytes written. */
size_t pl011_write(Pl011 *u, const uint8_t *buf, size_t len);

#endif
