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
 *
 * With arg=3 (on_crash=reset): the crash inside an NMI handler; the next
 * boot must take an NMI again (crash_in_nmi_handler).
 *
 * With arg=4 (expect=stop): a whole IDT at a linear address no page maps
 * (512 GiB: PML4 slot 1 of the loader's tables is empty), so the stop
 * report must say the #DF gate is not readable.
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
		boots = cmos_read(CMOS_MARK);
		boots = boots >= 0xc0 && boots < 0xc0 + SIMULTANEOUS_BOOTS ? boots + 1 : 0xc0;
		printf("triplefault: boot %u of %u, both vCPUs crash at once\n", boots - 0xc0 + 1,
		       SIMULTANEOUS_BOOTS + 1);
		if (boots == 0xc0 + SIMULTANEOUS_BOOTS) {
			cmos_write(CMOS_MARK, 0);
			return 0;
		}
		cmos_write(CMOS_MARK, boots);
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

/*
 * arg=3 (on_crash=reset): the crash comes inside an NMI handler, before its
 * IRET. A reset clears the blocking of NMIs (SDM vol. 3, 10.1 and 6.7.1):
 * on the next boot a self-NMI must arrive. (The hypervisor kept AMD-V's
 * NMI blocking itself and did not clear it at a reset: every NMI after it
 * waited for an IRET that no boot would run.)
 */
#define ICR_NMI (4u << 8)
#define ICR_ASSERT (1u << 14)

static volatile bool crash_in_nmi;
static volatile u32 nmis;

void guest_nmi(void)
{
	if (crash_in_nmi)
		crash_now();
	nmis++;
}

static void self_nmi(void)
{
	u32 id = mmio_read32(0xfee00020) >> 24;

	mmio_write32(0xfee000f0, 0x1ff); /* software-enabled */
	mmio_write32(0xfee00310, id << 24);
	mmio_write32(0xfee00300, ICR_NMI | ICR_ASSERT);
}

static int crash_in_nmi_handler(void)
{
	if (cmos_read(CMOS_MARK) == 0xcd) {
		cmos_write(CMOS_MARK, 0);
		self_nmi();
		for (u64 end = hc_time_ns() + 1000000000ull; !nmis && hc_time_ns() < end;)
			cpu_relax();
		printf("triplefault: boot 2, after a crash in an NMI handler: %u NMI(s) taken of 1\n",
		       nmis);
		return nmis == 1 ? 0 : 1;
	}
	cmos_write(CMOS_MARK, 0xcd);
	crash_in_nmi = true;
	self_nmi();
	for (u64 end = hc_time_ns() + 1000000000ull; hc_time_ns() < end;)
		cpu_relax();
	printf("FAIL triplefault: the NMI did not come (nor the crash in its handler)\n");
	return 1;
}

int main(ulong arg)
{
	if (arg == 2)
		return crash_together();
	if (arg == 3)
		return crash_in_nmi_handler();
	if (arg == 1) {
		if (cmos_read(CMOS_MARK) == 0xcc) {
			printf("triplefault: boot 2, after the crash\n");
			return 0;
		}
		cmos_write(CMOS_MARK, 0xcc);
	}
	struct __attribute__((packed)) {
		u16 limit;
		u64 base;
	} empty = { 0, 0 }, unmapped = { 0xfff, 1ull << 39 };

	if (arg == 4) {
		printf("triplefault: an IDT in no page, then UD2\n");
		__asm__ volatile("lidt %0\n\tud2" ::"m"(unmapped));
		printf("FAIL triplefault: still running after UD2 with an unmapped IDT\n");
		return 1;
	}
	printf("triplefault: empty IDT, then UD2; the hypervisor should stop this VM\n");
	__asm__ volatile("lidt %0\n\tud2" ::"m"(empty));
	printf("FAIL triplefault: still running after UD2 with no IDT\n");
	return 1;
}
