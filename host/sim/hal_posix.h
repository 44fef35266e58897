/* Set-up of the POSIX HAL: which file descriptors are the UART. */
#ifndef COHESIX_HOST_SIM_HAL_POSIX_H
#define COHESIX_HOST_SIM_HAL_POSIX_H

/* uart_in/uart_out may be -1 (no UART). */
void hal_posix_init(int uart_in, int uart_out);

#endif
