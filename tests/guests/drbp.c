/*
 * drbp: a VM's hardware breakpoints are its own (issue 15, item 4). Two VMs
 * of this image share one CPU, so the instruction at dr_target is at the
 * same linear address in both:
 *   arg=1 points DR0 at it and enables DR0 in DR7 as an execute
 *         breakpoint, then yields to the other VM, ROUNDS times, and puts
 *         DR7 back to 0x400 (it never runs dr_target itself);
 *   arg=2 keeps DR7 at 0x400 and runs dr_target between its yields: it
 *         must never take a #DB, since no breakpoint of its own is on.
 * QEMU's TCG, when the guest's MOV to DR7 ran in the guest, planted the
 * breakpoint for everything its CPU ran after, the other VM included (and
 * the hypervisor, at an address of its own): core/exit_dr.c. Both VMs also
 * read back what they wrote (DR0 and DR7 go through the hypervisor).
 * arg of 0x1000 and above (by hand): DR0 at that address instead, say an
 * instruction of the hypervisor's that runs at every VM entry (`nm` gives
 * one), then yields ROUNDS times. The hypervisor must not notice.
 * arg=2 then checks DR7.GD: a MOV DR becomes a #DB, with DR6.BD.
 * Exit: the number of failures.
 */
#include "guest.h"

#define ROUNDS 200
#define DR7_L0 0x1ul       /* DR0 enabled, execute (R/W0 = 00, LEN0 = 00) */
#define DR7_FIXED 0x400ul  /* bit 10 reads as 1 (SDM vol. 3, 19.2.4) */
#define DR7_GD 0x2000ul    /* general detect */
#define DR6_BD 0x2000ul

extern char dr_target[];

/* Runs the instruction at dr_target; the vector of an exception it took
 * (through .extable), or -1. */
static __attribute__((noinline)) ulong run_target(void)
{
	ulong vector = (ulong)-1, error = 0;

	__asm__ volatile(".globl dr_target\ndr_target: nop\n2:\n\t" EXTABLE(dr_target, 2b)
			 : "+S"(vector), "+D"(error)
			 :
			 : "memory");
	return vector;
}

/* MOV from DR0 with DR7.GD set: the vector it took (.extable), or -1. */
static __attribute__((noinline)) ulong read_dr0_guarded(void)
{
	ulong vector = (ulong)-1, error = 0, v;

	__asm__ volatile("1: mov %%dr0, %2\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"(error), "=r"(v)
			 :
			 : "memory");
	return vector;
}

static ulong get_dr6(void)
{
	ulong v;

	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static ulong get_dr7(void)
{
	ulong v;

	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

int main(ulong arg)
{
	unsigned dbs = 0, other = 0;

	if (arg == 1 || arg >= 0x1000) {
		ulong dr0, at = arg == 1 ? (ulong)dr_target : arg;

		__asm__ volatile("mov %0, %%dr0" ::"r"(at));
		__asm__ volatile("mov %0, %%dr7" ::"r"(DR7_FIXED | DR7_L0));
		__asm__ volatile("mov %%dr0, %0" : "=r"(dr0));
		check_eq("drbp: DR0 reads back", dr0, at);
		check_eq("drbp: DR7 reads back", get_dr7(), DR7_FIXED | DR7_L0);
		for (unsigned round = 0; round < ROUNDS; round++)
			hc_yield();
		__asm__ volatile("mov %0, %%dr7" ::"r"(DR7_FIXED));
		check_eq("drbp: DR7 back to 0x400", get_dr7(), DR7_FIXED);
		return (int)failures;
	}
	check_eq("drbp: DR7 of its own is 0x400", get_dr7(), DR7_FIXED);
	for (unsigned round = 0; round < ROUNDS; round++) {
		ulong v = run_target();

		dbs += v == 1;
		other += v != (ulong)-1 && v != 1;
		hc_yield();
	}
	check(!dbs && !other, "drbp: no #DB from the other VM's breakpoint",
	      "%u of %u runs took a #DB, %u another exception", dbs, ROUNDS, other);
	/* General detect (SDM vol. 3, 19.2.4): with DR7.GD a MOV DR is a #DB
	 * fault, DR6.BD set, GD cleared for the handler. */
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0ul));
	__asm__ volatile("mov %0, %%dr7" ::"r"(DR7_FIXED | DR7_GD));
	check_eq("drbp: DR7.GD: MOV from DR0 takes #DB", read_dr0_guarded(), 1);
	check(get_dr6() & DR6_BD, "drbp: DR7.GD: DR6.BD set", "DR6 %#lx", get_dr6());
	check_eq("drbp: DR7.GD: cleared by the #DB", get_dr7(), DR7_FIXED);
	return (int)failures;
}
