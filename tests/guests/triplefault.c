/*
 * triplefault: loads an empty IDT and executes UD2. The #UD cannot be
 * delivered, nor the #DF after it: the CPU shuts down, which the hypervisor
 * must answer by stopping this VM alone with a register dump (configure it
 * with expect=stop). Exit 1 if it survives.
 *
 * With arg=1 (for on_crash=reset), the first boot marks a CMOS RAM byte,
 * which a reset keeps, before it crashes; a boot that finds the mark says
 * so and exits 0.
 */
#include "guest.h"

#define CMOS_MARK 0x51 /* general-purpose CMOS RAM (reset.c uses 0x50) */

int main(ulong arg)
{
	if (arg == 1) {
		outb(0x70, CMOS_MARK);
		if (inb(0x71) == 0xcc) {
			printf("triplefault: boot 2, after the crash\n");
			return 0;
		}
		outb(0x70, CMOS_MARK);
		outb(0x71, 0xcc);
	}
	struct __attribute__((packed)) {
		u16 limit;
		u64 base;
	} empty = { 0, 0 };

	printf("triplefault: empty IDT, then UD2; the hypervisor should stop this VM\n");
	__asm__ volatile("lidt %0\n\tud2" ::"m"(empty));
	printf("FAIL triplefault: still running after UD2 with no IDT\n");
	return 1;
}
