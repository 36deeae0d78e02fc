/* Placeholder until the VM layer lands: proves the platform boots. */
#include "hv/hv.h"
#include "hv/console.h"
#include "asm/cpu.h"

__noreturn void hv_main(const struct boot_info *bi)
{
	kprintf("utsuwa: %u CPUs online; no VM layer yet\n", nr_cpus);
	for (;;)
		safe_halt();
}

__noreturn void hv_ap_main(struct percpu *cpu)
{
	kprintf("utsuwa: CPU %u online\n", cpu->id);
	for (;;)
		safe_halt();
}
