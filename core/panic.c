#include "hv/console.h"
#include "hv/platform.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "arch/x86/fault.h"

/* A broken invariant of the hypervisor: every CPU stops, this one says where. */
__noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	cpus_stop_others();
	kprintf("PANIC on CPU %u: ", this_cpu()->id);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace_print(read_rbp());
	for (;;)
		halt();
}
