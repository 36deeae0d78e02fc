/*
 * x2apic: IPIs between four vCPUs in x2APIC mode, by every way of naming a
 * destination (SDM vol. 3A, 10.12 "Extended XAPIC (x2APIC)"): physical
 * unicast and broadcast (0xFFFFFFFF), logical by cluster and bit (the LDR
 * derived from the x2APIC ID, 10.12.10.2), logical broadcast, the shorthands
 * (self, all, all but self) and the SELF IPI register. Each vCPU counts the
 * IPIs it took itself: after each wake-up it reads its own In-Service bit
 * for the vector, which only its own delivery sets, then writes EOI. vCPU 0
 * sends each IPI, waits for the targets and checks every vCPU's count: the
 * targets one more, everyone else none. Also the registers x2APIC mode
 * changes: LDR read-only and DFR gone (#GP, 10.12.1.2).
 * Configure with cpus=4. Exit: the number of failures.
 */
#include "guest.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode */
#define X2APIC_ID 0x802
#define X2APIC_EOI 0x80b
#define X2APIC_LDR 0x80d
#define X2APIC_DFR 0x80e
#define X2APIC_SVR 0x80f
#define X2APIC_ISR0 0x810
#define X2APIC_ICR 0x830
#define X2APIC_SELF_IPI 0x83f

#define ICR_LOGICAL (1u << 11)
#define ICR_SELF (1u << 18)
#define ICR_ALL (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)
#define NR 4

static volatile u32 up __shared, stop __shared, got[NR] __shared;
static volatile u64 ids[NR] __shared, ldrs[NR] __shared;

static u64 rdmsr(u32 msr)
{
	u64 v = 0;

	rdmsr_safe(msr, &v);
	return v;
}

static void wrmsr(u32 msr, u64 v)
{
	wrmsr_safe(msr, v);
}

/* Into x2APIC mode (from xAPIC: EXTD with EN already set), software-enabled. */
static void x2apic_on(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
	wrmsr(X2APIC_SVR, 0x1ff);
}

/* An IPI this vCPU took: its own ISR bit for the vector, then EOI. */
static void take(unsigned me)
{
	if ((rdmsr(X2APIC_ISR0 + TIMER_VECTOR / 32) >> (TIMER_VECTOR % 32)) & 1) {
		__atomic_fetch_add(&got[me], 1, __ATOMIC_SEQ_CST);
		wrmsr(X2APIC_EOI, 0);
	}
}

static __noreturn void target(unsigned me)
{
	x2apic_on();
	ids[me] = rdmsr(X2APIC_ID);
	ldrs[me] = rdmsr(X2APIC_LDR);
	__atomic_fetch_add(&up, 1, __ATOMIC_SEQ_CST);
	while (!stop) {
		sti_hlt_cli();
		take(me);
	}
	cli_hlt_forever();
}

/* Sends by write(), then checks each vCPU took `want` (bit i: vCPU i) once. */
static void ipi_case(const char *name, void (*write)(u64), u64 arg, unsigned want)
{
	u32 before[NR], now[NR];
	u64 end;
	bool ok = true;

	for (unsigned i = 0; i < NR; i++)
		before[i] = got[i];
	write(arg);
	/* vCPU 0 takes its own like the others; then every target's count, or
	 * 2 s; then 20 ms more for deliveries that should not come. */
	end = hc_time_ns() + 2000000000ull;
	for (;;) {
		bool all = true;

		irq_enable();
		delay_ns(100000);
		irq_disable();
		take(0);
		for (unsigned i = 0; i < NR; i++)
			all &= !((want >> i) & 1) || got[i] != before[i];
		if (all || hc_time_ns() > end)
			break;
	}
	irq_enable();
	delay_ns(20000000);
	irq_disable();
	take(0);
	for (unsigned i = 0; i < NR; i++) {
		now[i] = got[i];
		ok &= now[i] - before[i] == ((want >> i) & 1);
	}
	check(ok, name, "IPIs taken by vCPUs 0-3: %u %u %u %u, expected %u %u %u %u",
	      now[0] - before[0], now[1] - before[1], now[2] - before[2], now[3] - before[3],
	      want & 1, (want >> 1) & 1, (want >> 2) & 1, (want >> 3) & 1);
}

/* ICR: destination in bits 63:32, fixed delivery, edge (10.12.9). */
static void icr(u64 v)
{
	wrmsr(X2APIC_ICR, v | TIMER_VECTOR);
}

static void self_ipi(u64 unused)
{
	(void)unused;
	wrmsr(X2APIC_SELF_IPI, TIMER_VECTOR);
}

int main(ulong arg)
{
	(void)arg;
	struct vcpu_info vi;
	u64 v;

	hc_vcpu_info(&vi);
	if (vi.index != 0)
		target(vi.index < NR ? vi.index : 0);
	x2apic_on();
	check((rdmsr(MSR_APIC_BASE) & (APIC_BASE_EXTD | (1u << 11))) == (APIC_BASE_EXTD | (1u << 11)),
	      "x2apic_mode", "IA32_APIC_BASE %#llx", (unsigned long long)rdmsr(MSR_APIC_BASE));
	for (u64 end = hc_time_ns() + 5000000000ull; up < NR - 1 && hc_time_ns() < end;)
		cpu_relax();
	check_eq("x2apic_vcpus_up", up, NR - 1);
	ids[0] = rdmsr(X2APIC_ID);
	ldrs[0] = rdmsr(X2APIC_LDR);
	/* 10.12.10.2: cluster ID[19:4] in LDR[31:16], bit ID[3:0] in LDR[15:0]. */
	for (unsigned i = 0; i < NR; i++)
		check(ids[i] == i && ldrs[i] == 1u << i, "x2apic_id_and_ldr",
		      "vCPU %u: x2APIC ID %llu, LDR %#llx", i, (unsigned long long)ids[i],
		      (unsigned long long)ldrs[i]);
	check(wrmsr_safe(X2APIC_LDR, 2) == X86_GP, "x2apic_ldr_read_only", "WRMSR LDR took");
	check(rdmsr_safe(X2APIC_DFR, &v) == X86_GP, "x2apic_no_dfr", "RDMSR DFR took");

	ipi_case("x2apic_physical_unicast", icr, 2ull << 32, 1u << 2);
	ipi_case("x2apic_physical_broadcast", icr, 0xffffffffull << 32, 0xf);
	ipi_case("x2apic_logical_cluster0_bits", icr, (0x0000000aull << 32) | ICR_LOGICAL, 0xa);
	ipi_case("x2apic_logical_other_cluster", icr, (0x00010002ull << 32) | ICR_LOGICAL, 0);
	ipi_case("x2apic_logical_broadcast", icr, (0xffffffffull << 32) | ICR_LOGICAL, 0xf);
	ipi_case("x2apic_shorthand_self", icr, ICR_SELF, 1);
	ipi_case("x2apic_shorthand_all", icr, ICR_ALL, 0xf);
	ipi_case("x2apic_shorthand_all_but_self", icr, ICR_ALL_BUT_SELF, 0xe);
	ipi_case("x2apic_self_ipi_register", self_ipi, 0, 1);
	stop = 1;
	icr(ICR_ALL_BUT_SELF); /* wake them to see stop */
	printf("x2apic: %u failure(s)\n", failures);
	return (int)failures;
}
