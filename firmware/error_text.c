/* The firmware core's refusal wording (error_text.h): a prefix naming the part, then the detail. */
#include "error_text.h"

#include <stdarg.h>
#include <stdio.h>

int error_text(char *err, size_t err_len, const char *prefix, const char *fmt, ...) {
  if (!err || !err_len) return -1;
  int n = snprintf(err, err_len, "%s", prefix);
  /* A buffer too small for the prefix keeps what fits; the detail is dropped, never overrun. */
  if (n < 0 || (size_t)n >= err_len) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}
