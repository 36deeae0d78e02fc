/*
 * The hypervisor's log on its serial console, and mirrored on the screen when
 * the loader left a framebuffer (for machines without a serial port). Lines
 * from different CPUs never interleave.
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdarg.h>
#include "hv/types.h"

void console_init(void);

struct boot_fb;
/*
 * Mirrors the log from now on onto the framebuffer fb, mapped at base
 * (drivers/fbcon.c). Returns 0, or -ENOTSUP for a kind it cannot draw.
 */
int console_attach_screen(const struct boot_fb *fb, void *base);
void kprintf(const char *fmt, ...) __printf(1, 2);
void kvprintf(const char *fmt, va_list ap);
/* Writes raw bytes, under the console lock. */
void console_write(const char *s, size_t n);
/* Writes bytes as they are, '\n' without a '\r' added: an attached VM's
 * output, whose terminal settings already chose its line ends. */
void console_write_raw(const char *s, size_t n);

/* A broken invariant of the hypervisor itself: log, dump this CPU, stop the machine. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

#endif
