/*
 * triplefault: loads an empty IDT and executes UD2. The #UD cannot be
 * delivered, nor the #DF after it: the CPU shuts down, which the hypervisor
 * must answer by stopping this VM alone with a register dump (configure it
 * with expect=stop). Exit 1 if it survives.
 */
#include "guest.h"

int main(ulong arg)
{
	struct __attribute__((packed)) {
		u16 limit;
		u64 base;
	} empty = { 0, 0 };

	printf("triplefault: empty IDT, then UD2; the hypervisor should stop this VM\n");
	__asm__ volatile("lidt %0\n\tud2" ::"m"(empty));
	printf("FAIL triplefault: still running after UD2 with no IDT\n");
	return 1;
}
