/* The device HAL: what bindings/ and firmware/ need from a platform (UART, log sink, sockets). host/sim and
 * sel4-platform implement it, together with the engine half in engine/port/engine_hal.h. */
#ifndef COHESIX_BINDINGS_HAL_H
#define COHESIX_BINDINGS_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine_hal.h"
#include "slots.h"

/* Readiness bits reported by hal_net_ready() for the last hal_wait_until(). */
#define HAL_NET_READABLE 0x1u
#define HAL_NET_WRITABLE 0x2u
#define HAL_NET_FAILED 0x4u

/* Errors: negative values. */
#define HAL_E_AGAIN (-11)
#define HAL_E_INVAL (-22)
#define HAL_E_ADDRINUSE (-98)
#define HAL_E_NOSPC (-28)
#define HAL_E_IO (-5)

/* UART: non-blocking read of what arrived; write blocks only as long as the device needs. */
size_t hal_uart_read(uint8_t *buf, size_t cap);
void hal_uart_write(const uint8_t *buf, size_t len);

/* The firmware log: one line without its newline. */
void hal_log_write(const char *line, size_t len);

/* Sockets. Handles are small non-negative integers the platform chooses. */
int hal_net_listen(const char *host, uint16_t port);
/* Returns a connection handle, HAL_E_AGAIN when none is waiting, or another error. */
int hal_net_accept(int listener, char *peer, size_t peer_len);
/* > 0 bytes, 0 at end of stream, HAL_E_AGAIN when nothing is there, other negatives on failure. */
long hal_net_recv(int sock, uint8_t *buf, size_t cap);
/* Bytes taken (possibly fewer than len), HAL_E_AGAIN, or another negative on failure. */
long hal_net_send(int sock, const uint8_t *buf, size_t len);
void hal_net_close(int handle);
/* The local port a listener is bound to, or a negative error. */
int hal_net_local_port(int listener);
/* Whether hal_wait_until should also wake when sock becomes writable. */
void hal_net_want_write(int sock, int on);
/* Whether hal_wait_until should wake when sock has bytes to read (on by default). Off while the
   owner pauses reads (TCP back-pressure): unread bytes then stay in the platform's receive buffer,
   whose window slows the peer. A failure (reset) is still reported as HAL_NET_FAILED. */
void hal_net_want_read(int sock, int on);
/* HAL_NET_* bits seen for this handle by the last wait. Level, not edge: a handle with unread bytes
   reports READABLE again at the next wait (net.c stops reading after a short read on that promise). */
unsigned hal_net_ready(int handle);

/*
 * A/B slot storage for over-the-air updates (docs/slots.md, docs/ota-update.md). The host keeps files in
 * its --slots folder (host/sim/slots_posix.c) or --slot-disk; the seL4 port a virtio-blk disk (hal_sel4.c). An update is
 * staged apart from the slot it goes to, so a crash mid-upload leaves every slot and the state record as
 * they were. One staged update at a time, platform-wide.
 */
/* The slot the firmware booted from, or SLOT_NONE when it did not boot from slots (no updates then). */
SlotId hal_slots_booted(void);
/* The store of the state record (firmware/slots.h), or NULL when not booted from slots. */
const SlotStore *hal_slots_store(void);
/* Starts staging an image of `bytes` for `slot`, dropping any staged bytes. 0, or -1 with err. */
int hal_slot_stage_open(SlotId slot, uint32_t bytes, char *err, size_t err_len);
/* Writes staged bytes at offset (offset + len <= the bytes given to open). 0, or -1 with err. */
int hal_slot_stage_write(uint32_t offset, const uint8_t *data, size_t len, char *err, size_t err_len);
/* Reads staged bytes back as the device holds them (verification reads what was written). */
int hal_slot_stage_read(uint32_t offset, uint8_t *buf, size_t len, char *err, size_t err_len);
/* Makes the staged bytes the slot's image, durably and atomically (old image or new, never torn). */
int hal_slot_stage_install(char *err, size_t err_len);
/* Drops the staged bytes; the slot keeps what it had. */
void hal_slot_stage_drop(void);
/* Restarts the firmware into whatever the state record says next: the host re-executes itself (same
   process id) once the pump has stopped; the seL4 port on QEMU virt, which gives user mode no PSCI
   call, halts with a reset line its launcher restarts on (sel4-platform/hal_sel4.c). Returns at once;
   the restart happens when the current pump turn ends. */
void hal_restart(void);

#endif
