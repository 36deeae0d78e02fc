/*
 * tscscale: a VM made with tsc_khz= sees its TSC count at that rate, as a
 * VM migrated from a host of another TSC rate does (hv/vm_clock.h, TSC
 * scaling in software; issue 14). Long mode, one vCPU. arg = the rate in
 * kHz the VM was given.
 *
 *   - tsc_rate_cpuid: CPUID 0x40000010 EAX (the TSC's kHz) is arg
 *   - tsc_rate_rdtsc: RDTSC advances arg ticks per ms of the VM's time
 *     (HC_TIME_NS, which the hypervisor counts from the same guest TSC in
 *     software): within 0.5%. An RDTSC the hardware answered at the host's
 *     rate would miss by the host's rate over arg.
 *   - tsc_msr_agrees: RDMSR of IA32_TSC reads what RDTSC reads
 *   - tsc_deadline_on_time: a TSC-deadline timer 2 ms of guest TSC ahead
 *     fires after 2 ms of the VM's time, not before, and within 50 ms
 *
 * Exit code: the failures (0: all passed).
 */
#include "guest.h"
#include "lapic.h"

#define MSR_IA32_TSC 0x10
#define MSR_TSC_DEADLINE 0x6e0
#define VEC 0x60
#define LVT_TSC_DEADLINE (2u << 17)

static volatile u32 fired;
static volatile u64 fired_ns;

void tsc_irq(void);
void tsc_irq(void)
{
	fired_ns = hc_time_ns();
	fired++;
	mmio_write32(LAPIC + APIC_EOI, 0);
}
__asm__(".text\n" GUEST_IRQ_STUB(tsc_stub, tsc_irq, 0));
extern char tsc_stub[];

static void check_cpuid(u32 khz)
{
	u32 r[4];

	cpuid(0x40000010, 0, r);
	check(r[0] == khz, "tsc_rate_cpuid", "CPUID 0x40000010 EAX %u kHz (want %u)", r[0], khz);
}

static void check_rate(u32 khz)
{
	u64 t0a, t0b, t1a, t1b, ns0, ns1, low, high;

	/* Each HC_TIME_NS between two RDTSCs: the exits' own time (long on a
	 * loaded host) bounds the rate from both sides instead of skewing it. */
	t0a = rdtsc();
	ns0 = hc_time_ns();
	t0b = rdtsc();
	while (hc_time_ns() - ns0 < 50000000) /* 50 ms of the VM's time */
		cpu_relax();
	t1a = rdtsc();
	ns1 = hc_time_ns();
	t1b = rdtsc();
	low = (t1a - t0b) * 1000000 / (ns1 - ns0); /* kHz */
	high = (t1b - t0a) * 1000000 / (ns1 - ns0);
	check(low * 1000 <= (u64)khz * 1005 && high * 1000 >= (u64)khz * 995, "tsc_rate_rdtsc",
	      "RDTSC counted %llu to %llu kHz over %llu ns (want %u kHz within 0.5%%)",
	      (unsigned long long)low, (unsigned long long)high, (unsigned long long)(ns1 - ns0),
	      khz);
}

static void check_msr(u32 khz)
{
	u64 a, m = 0, b;

	a = rdtsc();
	rdmsr_safe(MSR_IA32_TSC, &m);
	b = rdtsc();
	/* In order, and two exits apart: under 100 ms even under Bochs, whose
	 * 20 MHz TSC makes an exit cost milliseconds of a 1 GHz guest TSC. */
	check(m >= a && m <= b && b - a < 100ull * khz, "tsc_msr_agrees",
	      "RDTSC %llu, IA32_TSC %llu, RDTSC %llu", (unsigned long long)a,
	      (unsigned long long)m, (unsigned long long)b);
}

static void check_deadline(u32 khz)
{
	u64 start_ns, deadline, waited;

	idt_set_gate(VEC, tsc_stub, 0x8e, 0);
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	mmio_write32(LAPIC + APIC_LVT_TIMER, VEC | LVT_TSC_DEADLINE);
	start_ns = hc_time_ns();
	deadline = rdtsc() + 2ull * khz; /* 2 ms of guest TSC */
	wrmsr_safe(MSR_TSC_DEADLINE, deadline);
	irq_enable();
	while (!fired && hc_time_ns() - start_ns < 1000000000)
		cpu_relax();
	irq_disable();
	waited = fired_ns - start_ns;
	check(fired == 1 && waited >= 2000000 && waited < 50000000, "tsc_deadline_on_time",
	      "%u interrupt(s), %llu ns after arming (want one, 2 ms to 50 ms)", fired,
	      (unsigned long long)waited);
}

int main(ulong arg)
{
	u32 khz = (u32)arg;

	check_cpuid(khz);
	check_rate(khz);
	check_msr(khz);
	check_deadline(khz);
	printf("tscscale: %u failure(s)\n", failures);
	return (int)failures;
}
