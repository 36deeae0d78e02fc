/*
 * isolation: touches guest-physical memory just past its RAM. As on a PC,
 * with nothing there a read gives all ones and a write goes nowhere; the
 * hypervisor says so once. Then it jumps there, an instruction fetch from
 * nowhere, which the hypervisor answers by stopping this VM alone
 * (configure it with expect=stop). It first checks the last bytes of its
 * RAM are its own.
 *
 * arg = the VM's RAM size in bytes (0: 16 MiB). Exit 1 if it survives.
 */
#include "guest.h"

/*
 * arg bit 0: instead, point a PML4 entry at the local APIC page and read
 * through it, so the CPU's own page walk reads a page-table entry from the
 * APIC's registers: the hypervisor must stop the VM (nothing emulates a
 * page walk into a device), not hand the walk's read to the APIC.
 */
static __attribute__((noreturn)) void walk_into_the_apic(void)
{
	ulong cr3;
	volatile u64 *pml4;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (volatile u64 *)(cr3 & ~0xffful);
	pml4[1] = 0xfee00000ul | 3; /* present, writable: linear 512 GiB on */
	__asm__ volatile("invlpg (%0)" ::"r"(1ul << 39) : "memory");
	printf("isolation: reading linear %#lx through page tables in the local APIC page\n",
	       1ul << 39);
	(void)*(volatile u64 *)(1ul << 39);
	printf("FAIL isolation: a page walk through the APIC page went on\n");
	hc_exit(1);
}

int main(ulong arg)
{
	if (arg & 1)
		walk_into_the_apic();
	ulong ram = arg ? arg : 16ul << 20;
	volatile u32 *last = (volatile u32 *)(ram - 4), *past = (volatile u32 *)ram;
	volatile u64 *past64 = (volatile u64 *)(ram + 0x100);

	*last = 0x1501a7ed;
	check_eq("isolation_last_word", *last, 0x1501a7ed);
	check_eq("isolation_read_past_ram", *past, 0xffffffff);
	*past = 0x12345678;
	check_eq("isolation_write_past_ram_dropped", *past, 0xffffffff);
	check_eq("isolation_read64_past_ram", *past64, ~0ull);
	check_eq("isolation_last_word_kept", *last, 0x1501a7ed);
	printf("isolation: jumping to %#lx, just past RAM; the hypervisor should stop this VM\n",
	       ram);
	((void (*)(void))ram)();
	printf("FAIL isolation: executed past RAM, still running\n");
	return 1;
}
