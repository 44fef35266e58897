/* cmocka tests for the pty UART (hal_posix_init_pty): raw, so no echo, and it outlives a terminal's hang-up. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "engine_hal.h"
#include "hal.h"
#include "hal_posix.h"

/* Path of the pty's slave, as hal_posix_init_pty writes it. */
#define PTY_NAME_BYTES_MAX 128u
/* Waits a test makes for the UART before it gives up: each returns at input or its deadline. */
#define UART_WAITS_MAX 50u
/* One such wait's deadline, in µs (well above HAL_UART_HUP_RECHECK_US). */
#define UART_WAIT_US 1000000u
#define READ_BYTES_MAX 64u

static int open_terminal(const char *name) {
  int fd = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK);
  assert_true(fd >= 0);
  return fd;
}

/* What the firmware reads from the UART next (the first non-empty read, within UART_WAITS_MAX waits). */
static size_t uart_next(uint8_t *buf, size_t cap) {
  for (unsigned i = 0; i < UART_WAITS_MAX; i++) {
    hal_wait_until(hal_clock_us() + UART_WAIT_US);
    size_t n = hal_uart_read(buf, cap);
    if (n) return n;
  }
  return 0;
}

static void assert_terminal_reads(int fd, const char *want) {
  char buf[READ_BYTES_MAX];
  ssize_t n = read(fd, buf, sizeof buf);
  assert_int_equal(n, (ssize_t)strlen(want));
  assert_memory_equal(buf, want, strlen(want));
}

static void test_uart_pty_does_not_echo_the_firmwares_output_back_as_input(void **state) {
  (void)state;
  char name[PTY_NAME_BYTES_MAX];
  assert_int_equal(hal_posix_init_pty(name, sizeof name), 0);
  int term = open_terminal(name);
  struct termios t;
  assert_int_equal(tcgetattr(term, &t), 0);
  assert_int_equal(t.c_lflag & (ECHO | ICANON | ISIG), 0);
  assert_int_equal(t.c_oflag & OPOST, 0);

  hal_uart_write((const uint8_t *)"ERR PARSE\r\ncohesix> ", 20);
  assert_terminal_reads(term, "ERR PARSE\r\ncohesix> ");
  assert_int_equal(write(term, "ping\n", 5), 5);
  uint8_t buf[READ_BYTES_MAX];
  size_t n = uart_next(buf, sizeof buf);
  /* With echo on, the firmware's own output would come first. */
  assert_int_equal(n, 5);
  assert_memory_equal(buf, "ping\n", 5);
  close(term);
}

static void test_uart_pty_answers_again_after_a_terminal_hangs_up_and_reconnects(void **state) {
  (void)state;
  char name[PTY_NAME_BYTES_MAX];
  assert_int_equal(hal_posix_init_pty(name, sizeof name), 0);
  uint8_t buf[READ_BYTES_MAX];
  int term = open_terminal(name);
  assert_int_equal(write(term, "a\n", 2), 2);
  assert_int_equal(uart_next(buf, sizeof buf), 2);

  close(term);
  /* The hang-up: the master polls ready and reads EIO. It is not input, and it is not the end. */
  hal_wait_until(hal_clock_us() + UART_WAIT_US);
  assert_int_equal(hal_uart_read(buf, sizeof buf), 0);
  hal_uart_write((const uint8_t *)"stale\n", 6); /* nobody listens: dropped, not kept for the next terminal */

  term = open_terminal(name);
  assert_int_equal(write(term, "b\n", 2), 2);
  size_t n = uart_next(buf, sizeof buf);
  assert_int_equal(n, 2);
  assert_memory_equal(buf, "b\n", 2);
  hal_uart_write((const uint8_t *)"fresh\n", 6);
  assert_terminal_reads(term, "fresh\n");
  close(term);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uart_pty_does_not_echo_the_firmwares_output_back_as_input),
      cmocka_unit_test(test_uart_pty_answers_again_after_a_terminal_hangs_up_and_reconnects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
