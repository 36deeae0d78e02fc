#include "hv/console.h"
#include "asm/cpu.h"

__noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	kprintf("PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	for (;;)
		halt();
}
