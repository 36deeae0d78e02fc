#include "hv/console.h"
#include "hv/vm_console.h"
#include "hv/spinlock.h"
#include "drivers/serial.h"
#include "lib/format.h"
#include "asm/cpu.h"

static spinlock_t console_lock = SPINLOCK_INIT;

void console_init(void)
{
	serial_init();
}

static void write_locked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

void console_write(const char *s, size_t n)
{
	u64 flags = irq_save();

	spin_lock(&console_lock);
	write_locked(s, n);
	spin_unlock(&console_lock);
	irq_restore(flags);
}

void console_write_raw(const char *s, size_t n)
{
	u64 flags = irq_save();

	spin_lock(&console_lock);
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
	spin_unlock(&console_lock);
	irq_restore(flags);
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

	vm_console_message_starts(); /* not glued to the monitor's prompt */
	console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
