/* The end of a run: halt, or tell the emulator running us to exit. */
#include "hv/platform.h"
#include "hv/console.h"
#include "asm/cpu.h"
#include "asm/io.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4: exit((v << 1) | 1) */
#define BOCHS_SHUTDOWN_PORT 0x8900

__noreturn void platform_done(enum on_done how, int status)
{
	if (how == DONE_QEMU_EXIT) {
		outb(QEMU_DEBUG_EXIT_PORT, (u8)status);
	} else if (how == DONE_BOCHS_EXIT) {
		kprintf("utsuwa: exit status %d\n", status);
		for (const char *s = "Shutdown"; *s; s++)
			outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
	}
	kprintf("utsuwa: halted\n");
	for (;;)
		safe_halt();
}
