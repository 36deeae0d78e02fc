/* The boot CPU's C entry, and each other CPU's. */
#include "hv/bootinfo.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/platform.h"

void kmain(u32 magic, u64 info);

static struct boot_info boot_info;

void kmain(u32 magic, u64 info)
{
	console_init();
	kprintf("utsuwa: booting\n");
	arch_setup(magic, info, &boot_info); /* memory, CPU tables, ACPI, timers, all CPUs */
	hv_main(&boot_info);                 /* VMs: does not return */
}
