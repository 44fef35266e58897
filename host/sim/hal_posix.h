/* Set-up of the POSIX HAL: which file descriptors are the UART, and how long a wait spins before it sleeps. */
#ifndef COHESIX_HOST_SIM_HAL_POSIX_H
#define COHESIX_HOST_SIM_HAL_POSIX_H

#include <stddef.h>
#include <stdint.h>

/* Longest spin hal_posix_set_spin_us takes, in µs: past a few ms a sleeping wait is cheaper. */
#define HAL_SPIN_US_MAX 10000u
/* The spin cohesix-sim asks for unless told otherwise (--spin-us): above a VM's loopback round
   trip, so a client's next request in a loop is caught by the poll (docs/firmware.md). */
#define HAL_SPIN_US_DEFAULT 100u

/* uart_in/uart_out may be -1 (no UART). */
void hal_posix_init(int uart_in, int uart_out);

/* How often a hung-up pty UART (no terminal on its slave) is looked at again, in µs: no event says
   a terminal came back, and a hung-up master polls as ready for ever, so it is not polled at all. */
#define HAL_UART_HUP_RECHECK_US 200000u

/* hal_posix_init with the UART on a new pty in raw mode (no echo: the firmware's output must not
   come back as its input; no line discipline between the terminal and the firmware's own). The
   slave's path goes to name (name_cap bytes). Terminals may come and go: output is dropped while
   none is attached, input resumes when one opens the slave again. Returns 0, or -1 with errno. */
int hal_posix_init_pty(char *name, size_t name_cap);

/* How long a wait after input polls before it sleeps, in µs (0 = never spin). Returns the spin in
   force (0 with fewer than two CPUs to run on: affinity or a cgroup quota), or -1 above
   HAL_SPIN_US_MAX. */
int hal_posix_set_spin_us(uint32_t spin_us);

/* Makes the pump's current or next wait return at once (async-signal-safe: for signal handlers
   that set the firmware's stop flag). */
void hal_posix_wake(void);

#endif
