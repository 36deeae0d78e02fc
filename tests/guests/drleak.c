/*
 * drleak: the debug-address registers DR0-DR3 (and DR6) are a vCPU's own
 * (issue 15): two VMs of this guest share one CPU, each writes its own
 * values (arg picks them), yields to the other (HC_YIELD), and checks its
 * values are still there, 200 times. Without switching, a VM would read the
 * other's addresses. No breakpoint is enabled (DR7 stays 0x400).
 * Exit: the number of failures.
 */
#include "guest.h"

#define ROUNDS 200

static ulong get_dr(int n)
{
	ulong v = 0;

	switch (n) {
	case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
	}
	return v;
}

static void set_dr(int n, ulong v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" ::"r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" ::"r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" ::"r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%dr3" ::"r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr6" ::"r"(v)); break;
	}
}

int main(ulong arg)
{
	unsigned bad = 0;

	for (unsigned round = 0; round < ROUNDS; round++) {
		/* Addresses unique to this VM and round; DR6 bits 0-3 (B0-B3)
		 * and 13 (BD) are writable, the rest fixed (SDM vol. 3, 18.2.3). */
		for (int n = 0; n < 4; n++)
			set_dr(n, 0x100000ul * (arg + 1) + round * 16 + n * 4);
		set_dr(4, 0xffff0ff0ul | (arg & 1 ? 0x1 : 0x2));
		hc_yield();
		for (int n = 0; n < 4; n++)
			bad += get_dr(n) != 0x100000ul * (arg + 1) + round * 16 + n * 4;
		bad += (get_dr(4) & 0xf) != (arg & 1 ? 0x1 : 0x2);
	}
	check(!bad, "drleak_own_debug_registers", "%u of %u values were not this VM's", bad,
	      ROUNDS * 5);
	return (int)failures;
}
