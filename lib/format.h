/* printf-style formatting into a buffer, without libc. */
#ifndef LIB_FORMAT_H
#define LIB_FORMAT_H

#include <stdarg.h>
#include "hv/types.h"

/*
 * Supports %d %i %u %x %X %p %s %c %% with flags '-' and '0', a width (or '*'),
 * a precision for %s, and the length modifiers l, ll, z. Returns the length the
 * whole output would have had; the buffer always ends with a NUL when size > 0.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int fmt_hex_digit(char c);

#endif
