/*
 * nmi: NMIs reach the guest (issue 15, item 4; SDM vol. 3, 6.7.1 and 10.6.1;
 * APM vol. 2, 8.2.3 and 16.5). Long mode, two vCPUs (cpus=2). vCPU 0:
 *   - 1,000 NMIs to itself through the ICR (delivery mode NMI, physical
 *     destination its own APIC ID), with interrupts disabled, each waited
 *     for: all 1,000 arrive, one handler run each;
 *   - blocking: inside an NMI handler it sends itself another and waits
 *     2 ms: the second must not run until the first handler's IRET, and
 *     then must run (NMIs are held, not lost, while one is handled);
 *   - 200 NMIs to vCPU 1, which sits in HLT with interrupts disabled (an
 *     NMI wakes it anyway): all arrive there, none on vCPU 0;
 *   - the I/O APIC with delivery mode NMI on the PIT's pin (2): the PIT's
 *     100 Hz edges arrive as NMIs.
 * Exit code: the number of failures.
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define APIC_ID 0x020
#define APIC_SVR 0x0f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_NMI (4u << 8)        /* delivery mode 100b */
#define ICR_ASSERT (1u << 14)
#define ICR_PENDING (1u << 12)
#define IOAPIC 0xfec00000ul

static volatile u32 count[2] __shared, nested __shared, in_handler[2] __shared;
static volatile u32 vcpu1_ready __shared, vcpu1_id __shared, stop __shared;
/* The blocking test: the handler's first run sends another NMI and waits. */
static volatile u32 block_test __shared, seen_inside __shared;

static u32 lapic_read(u32 reg) { return mmio_read32(LAPIC + reg); }
static void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }
static u32 my_id(void) { return lapic_read(APIC_ID) >> 24; }

static void send_nmi(u32 apic_id)
{
	lapic_write(APIC_ICR_HI, apic_id << 24);
	lapic_write(APIC_ICR_LO, ICR_NMI | ICR_ASSERT);
}

static bool wait_count(unsigned cpu, u32 want, u64 ms)
{
	u64 end = hc_time_ns() + ms * 1000000ull;

	while (count[cpu] < want && hc_time_ns() < end)
		cpu_relax();
	return count[cpu] >= want;
}

void guest_nmi(void)
{
	unsigned cpu = my_id() == vcpu1_id && vcpu1_ready ? 1 : 0;

	if (in_handler[cpu])
		nested++; /* an NMI inside an NMI handler: blocking failed */
	in_handler[cpu] = 1;
	count[cpu]++;
	if (cpu == 0 && block_test == 1) {
		u32 before = count[0];

		block_test = 2;
		send_nmi(my_id());
		for (u64 end = hc_time_ns() + 2000000ull; hc_time_ns() < end;)
			cpu_relax();
		seen_inside = count[0] - before;
	}
	in_handler[cpu] = 0;
}

static __noreturn void vcpu1(void)
{
	vcpu1_id = my_id();
	lapic_write(APIC_SVR, 0x1ff);
	vcpu1_ready = 1;
	/* Interrupts off: only NMIs end each HLT. */
	while (!stop)
		__asm__ volatile("cli; hlt" ::: "memory");
	cli_hlt_forever();
}

static void test_self(void)
{
	unsigned got = 0;

	for (unsigned i = 0; i < 1000; i++) {
		u32 before = count[0];

		send_nmi(my_id());
		if (!wait_count(0, before + 1, 100))
			break;
		got++;
	}
	check(got == 1000 && count[0] == 1000 && !nested, "nmi_self_1000",
	      "%u of 1000 NMIs arrived, %u handler runs, %u nested", got, count[0], nested);
}

static void test_blocking(void)
{
	u32 before = count[0];

	block_test = 1;
	send_nmi(my_id());
	wait_count(0, before + 2, 200);
	check(seen_inside == 0 && count[0] == before + 2 && !nested, "nmi_blocked_until_iret",
	      "%u ran inside the first handler, %u of 2 ran in all, %u nested", seen_inside,
	      count[0] - before, nested);
	block_test = 0;
}

static void test_other_vcpu(void)
{
	u32 before0 = count[0];
	unsigned got = 0;

	for (u64 end = hc_time_ns() + 2000000000ull; !vcpu1_ready && hc_time_ns() < end;)
		cpu_relax();
	for (unsigned i = 0; i < 200 && vcpu1_ready; i++) {
		u32 before = count[1];

		send_nmi(vcpu1_id);
		if (!wait_count(1, before + 1, 200))
			break;
		got++;
	}
	check(got == 200 && count[1] == 200 && count[0] == before0, "nmi_to_halted_vcpu",
	      "%u of 200 arrived on vCPU 1 (count %u), vCPU 0 got %u", got, count[1],
	      count[0] - before0);
}

static void test_ioapic(void)
{
	u32 before = count[0];

	mmio_write32(IOAPIC, 0x10 + 2 * 2 + 1);      /* entry 2 high: destination */
	mmio_write32(IOAPIC + 0x10, my_id() << 24);
	mmio_write32(IOAPIC, 0x10 + 2 * 2);          /* entry 2 low: NMI, edge, unmasked */
	mmio_write32(IOAPIC + 0x10, 4u << 8);
	outb(0x43, 0x34);                            /* PIT counter 0, mode 2, 100 Hz */
	outb(0x40, 11932 & 0xff);
	outb(0x40, 11932 >> 8);
	wait_count(0, before + 3, 1000);
	mmio_write32(IOAPIC, 0x10 + 2 * 2);
	mmio_write32(IOAPIC + 0x10, 1u << 16);       /* masked again */
	outb(0x43, 0x30);                            /* counter 0 mode 0: no more edges */
	check(count[0] >= before + 3 && !nested, "nmi_from_ioapic",
	      "%u NMIs from the PIT through the I/O APIC in 1 s (expected >= 3)",
	      count[0] - before);
}

int main(ulong arg)
{
	struct vcpu_info vi;

	hc_vcpu_info(&vi);
	if (vi.index == 1)
		vcpu1();
	if (vi.index > 1)
		cli_hlt_forever();
	lapic_write(APIC_SVR, 0x1ff);
	__asm__ volatile("cli");
	test_self();
	test_blocking();
	test_other_vcpu();
	test_ioapic();
	stop = 1;
	send_nmi(vcpu1_id); /* out of its HLT, to see stop */
	printf("nmi: %u failure(s)\n", failures);
	return (int)failures;
}
