/* PL011 UART: receive interrupt drain into a ring, bounded transmit; the register access is injected. */
#include "pl011.h"

void pl011_init(Pl011 *u, Pl011Io io, ByteRing *rx) {
  u->io = io;
  u->rx = rx;
  u->stats = (Pl011Stats){0, 0, 0, 0};
  u->last_was_cr = 0;
  u->rx_backlog = 0;
  /* Disable while reprogramming, as the TRM asks; clear whatever is pending from the boot loader. */
  io.write(io.ctx, PL011_CR, 0);
  io.write(io.ctx, PL011_IMSC, 0);
  io.write(io.ctx, PL011_ICR, PL011_INT_ALL);
  io.write(io.ctx, PL011_LCR_H, PL011_LCR_H_WLEN8);
  io.write(io.ctx, PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
  io.write(io.ctx, PL011_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE);
}

size_t pl011_rx_drain(Pl011 *u) {
  size_t moved = 0;
  u->io.write(u->io.ctx, PL011_ICR, PL011_INT_RX | PL011_INT_RT);
  u->rx_backlog = 0;
  uint32_t i = 0;
  for (; i < PL011_RX_DRAIN_BYTES_MAX; i++) {
    if (u->io.read(u->io.ctx, PL011_FR) & PL011_FR_RXFE) break;
    uint32_t dr = u->io.read(u->io.ctx, PL011_DR);
    if (dr & PL011_DR_ERROR_MASK) {
      u->stats.rx_errors++;
      continue;
    }
    uint8_t byte = (uint8_t)(dr & 0xffu);
    u->stats.rx_bytes++;
    int was_cr = u->last_was_cr;
    u->last_was_cr = byte == '\r';
    if (byte == '\n' && was_cr) continue;
    if (byte == '\r') byte = '\n';
    if (ring_put(u->rx, byte) == 0) moved++;
  }
  /* Stopped by the bound rather than by an empty FIFO: say so, since no interrupt may come for these bytes. */
  if (i == PL011_RX_DRAIN_BYTES_MAX && !(u->io.read(u->io.ctx, PL011_FR) & PL011_FR_RXFE)) u->rx_backlog = 1;
  return moved;
}

int pl011_rx_backlog(const Pl011 *u) { return u->rx_backlog; }

size_t pl011_write(Pl011 *u, const uint8_t *buf, size_t len) {
  size_t done = 0;
  for (; done < len; done++) {
    uint32_t spins = 0;
    while ((u->io.read(u->io.ctx, PL011_FR) & PL011_FR_TXFF) && spins < PL011_TX_SPIN_MAX) spins++;
    if (spins >= PL011_TX_SPIN_MAX) {
      u->stats.tx_dropped += len - done;
      break;
    }
    u->io.write(u->io.ctx, PL011_DR, buf[done]);
    u->stats.tx_bytes++;
  }
  return done;
}
