#include "hv/console.h"
#include "asm/cpu.h"

void kmain(u32 magic, u64 info);

void kmain(u32 magic, u64 info)
{
	console_init();
	kprintf("utsuwa: booting (loader magic %x, info at %lx)\n", magic, info);
	for (;;)
		halt();
}
