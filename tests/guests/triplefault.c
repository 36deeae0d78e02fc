/*
 * triplefault: loads an empty IDT and executes UD2. The #UD cannot be
 * delivered, nor the #DF after it: the CPU shuts down, which the hypervisor
 * must answer by stopping this VM alone with a register dump (configure it
 * with expect=stop). Exit 1 if it survives.
 *
 * With arg=1 (for on_crash=reset), the first boot marks a CMOS RAM byte,
 * which a reset keeps, before it crashes; a boot that finds the mark says
 * so and exits 0.
 *
 * With arg=2 (cpus=2, on_crash=reset): both vCPUs triple-fault at once,
 * released by one flag, 20 boots in a row (counted in the CMOS byte); the
 * 21st exits 0. A VM whose reset after a crash on two CPUs at once loses a
 * vCPU or never runs again times out.
 */
#include "guest.h"

#define CMOS_MARK 0x51 /* general-purpose CMOS RAM (reset.c uses 0x50) */

#define SIMULTANEOUS_BOOTS 20

static volatile u32 armed __shared, go __shared;

static __noreturn void crash_now(void)
{
	struct __attribute__((packed)) {
		u16 limit;
		u64 base;
	} empty = { 0, 0 };

	__asm__ volatile("lidt %0\n\tud2" ::"m"(empty));
	for (;;)
		;
}

/* arg=2: vCPU 0 counts the boot; both wait for each other, then crash. */
static int crash_together(void)
{
	struct vcpu_info vi;
	u8 boots;

	hc_vcpu_info(&vi);
	if (vi.index == 0) {
		outb(0x70, CMOS_MARK);
		boots = inb(0x71);
		boots = boots >= 0xc0 && boots < 0xc0 + SIMULTANEOUS_BOOTS ? boots + 1 : 0xc0;
		printf("triplefault: boot %u of %u, both vCPUs crash at once\n", boots - 0xc0 + 1,
		       SIMULTANEOUS_BOOTS + 1);
		if (boots == 0xc0 + SIMULTANEOUS_BOOTS) {
			outb(0x70, CMOS_MARK);
			outb(0x71, 0);
			return 0;
		}
		outb(0x70, CMOS_MARK);
		outb(0x71, boots);
		for (u64 end = hc_time_ns() + 5000000000ull; !armed && hc_time_ns() < end;)
			cpu_relax();
		if (!armed) {
			printf("FAIL triplefault: vCPU 1 did not come up on this boot\n");
			return 1;
		}
		go = 1;
	} else {
		armed = 1;
		while (!go)
			cpu_relax();
	}
	crash_now();
}

int main(ulong arg)
{
	if (arg == 2)
		return crash_together();
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
