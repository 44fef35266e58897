/* One way the firmware core words a refusal: "<prefix>: <detail>" into the caller's buffer, returning -1. */
#ifndef COHESIX_FIRMWARE_ERROR_TEXT_H
#define COHESIX_FIRMWARE_ERROR_TEXT_H

#include <stddef.h>

/* Writes prefix then the formatted detail into err (always terminated, cut to err_len) and
   returns -1, so a check reads `return error_text(err, err_len, "image: ", "...", ...);`. */
int error_text(char *err, size_t err_len, const char *prefix, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
