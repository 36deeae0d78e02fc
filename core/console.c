#include "hv/console.h"
#include "hv/vm_console.h"
#include "hv/spinlock.h"
#include "drivers/fbcon.h"
#include "drivers/serial.h"
#include "lib/format.h"
#include "asm/cpu.h"

static spinlock_t console_lock = SPINLOCK_INIT;
static struct fbcon screen;  /* guarded by console_lock */
static bool screen_on;       /* written once, at boot, before other CPUs run */

void console_init(void)
{
	serial_init();
}

int console_attach_screen(const struct boot_fb *fb, void *base)
{
	u64 flags = irq_save();
	int ret;

	spin_lock(&console_lock);
	ret = fbcon_setup(&screen, fb, base);
	screen_on = ret == 0;
	spin_unlock(&console_lock);
	irq_restore(flags);
	return ret;
}

static void write_locked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
		if (screen_on)
			fbcon_putc(&screen, s[i]);
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
