/*
 * apic: the local APIC (xAPIC page at 0xFEE00000) and the I/O APIC
 * (0xFEC00000) a VM sees. vCPU 0 checks the registers, a one-shot timer
 * interrupt and its EOI, CR8 as the TPR (both ways, and holding back an
 * interrupt), and sends a fixed IPI to vCPU 1, which must take it.
 * Configure with cpus=2, arg=2. Exit: the number of failures.
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ISR0 0x100
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DCR 0x3e0
#define IOAPIC 0xfec00000ul

static volatile u32 ready __shared, got_ipi __shared, vcpu1_id __shared, vcpu1_done __shared;

static u32 lapic_read(u32 reg) { return mmio_read32(LAPIC + reg); }
static void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }

/* Waits up to ms for *flag to become nonzero, interrupts on or off as they are. */
static bool wait_flag(volatile u32 *flag, u64 ms)
{
	u64 end = hc_time_ns() + ms * 1000000ull;

	while (!*flag && hc_time_ns() < end)
		cpu_relax();
	return *flag;
}

static __noreturn void vcpu1(void)
{
	u32 before;

	vcpu1_id = lapic_read(APIC_ID) >> 24;
	lapic_write(APIC_SVR, 0x1ff); /* software-enable, spurious vector 0xff */
	before = timer_count;
	ready = 1;
	/* Sleep until vCPU 0's IPI arrives (vector TIMER_VECTOR counts it). */
	for (u64 end = hc_time_ns() + 5000000000ull; timer_count == before && hc_time_ns() < end;)
		sti_hlt_cli();
	got_ipi = timer_count != before;
	lapic_write(APIC_EOI, 0);
	vcpu1_done = 1;
	cli_hlt_forever();
}

static void test_registers(void)
{
	u32 ver = lapic_read(APIC_VERSION);

	check_eq("lapic_id_vcpu0", lapic_read(APIC_ID) >> 24, 0);
	check(wait_flag(&ready, 5000), "lapic_vcpu1_ready", "vCPU 1 never came up");
	check_eq("lapic_id_vcpu1", vcpu1_id, 1);
	check(ver >= 0x10 && (ver & 0xff) <= 0x15 && ((ver >> 16) & 0xff) >= 3, "lapic_version",
	      "version register %#x", ver);
	lapic_write(APIC_SVR, 0x1ff);
	check_eq("lapic_svr", lapic_read(APIC_SVR), 0x1ff);
	lapic_write(APIC_TPR, 0x20);
	check_eq("lapic_tpr", lapic_read(APIC_TPR), 0x20);
	lapic_write(APIC_TPR, 0);
}

/* A one-shot timer at the TSC rate (divide by 1) of about 2 ms. */
static void test_timer(void)
{
	u32 r[4], before = timer_count;
	u64 t0;

	cpuid(0x40000010, 0, r); /* TSC kHz: the APIC timer counts at that rate */
	lapic_write(APIC_TIMER_DCR, 0xb);
	/* Counting down, masked, over 100 ms: a loaded host may take this vCPU
	 * off its CPU for milliseconds between two instructions. */
	lapic_write(APIC_LVT_TIMER, TIMER_VECTOR | (1u << 16));
	lapic_write(APIC_TIMER_INIT, r[0] * 100);
	u32 cur = lapic_read(APIC_TIMER_CUR);
	check(cur > 0 && cur < r[0] * 100, "lapic_timer_counting", "current count %u of %u", cur,
	      r[0] * 100);
	lapic_write(APIC_TIMER_INIT, 0); /* stops it */
	lapic_write(APIC_LVT_TIMER, TIMER_VECTOR); /* one-shot, unmasked */
	t0 = hc_time_ns();
	lapic_write(APIC_TIMER_INIT, r[0] * 2);
	irq_enable();
	while (timer_count == before && hc_time_ns() - t0 < 200000000ull)
		cpu_relax();
	irq_disable();
	check(timer_count == before + 1 && hc_time_ns() - t0 >= 2000000, "lapic_timer_oneshot",
	      "%u interrupt(s) after %llu ns, expected 1 after >= 2 ms", timer_count - before,
	      (unsigned long long)(hc_time_ns() - t0));
	check_eq("lapic_timer_done", lapic_read(APIC_TIMER_CUR), 0);
	check_eq("lapic_isr_before_eoi", (lapic_read(APIC_ISR0 + 0x10 * (TIMER_VECTOR / 32)) >>
					  (TIMER_VECTOR % 32)) & 1, 1);
	lapic_write(APIC_EOI, 0);
	check_eq("lapic_isr_after_eoi", (lapic_read(APIC_ISR0 + 0x10 * (TIMER_VECTOR / 32)) >>
					 (TIMER_VECTOR % 32)) & 1, 0);
	delay_ns(5000000); /* one-shot: no second interrupt */
	check_eq("lapic_timer_once", timer_count, before + 1);
}

static u64 read_cr8(void)
{
	u64 v;

	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static void write_cr8(u64 v)
{
	__asm__ volatile("mov %0, %%cr8" ::"r"(v) : "memory");
}

/* CR8 is TPR[7:4] (SDM vol. 3A, "Task Priority in IA-32e Mode"). */
static void test_cr8(void)
{
	u32 before = timer_count;

	write_cr8(5);
	check_eq("cr8_write_apic_tpr", lapic_read(APIC_TPR), 0x50);
	check_eq("cr8_read_back", read_cr8(), 5);
	lapic_write(APIC_TPR, 0x30);
	check_eq("apic_tpr_read_cr8", read_cr8(), 3);
	/* A self-IPI held back while CR8 is above its priority class. */
	write_cr8(15);
	lapic_write(APIC_ICR_LO, TIMER_VECTOR | (1u << 18)); /* fixed, to self */
	irq_enable();
	delay_ns(2000000);
	irq_disable();
	check_eq("cr8_holds_back_interrupt", timer_count, before);
	write_cr8(0);
	irq_enable();
	delay_ns(2000000);
	irq_disable();
	check_eq("cr8_lowered_interrupt_taken", timer_count, before + 1);
	lapic_write(APIC_EOI, 0);
	check_eq("apic_tpr_after_cr8_0", lapic_read(APIC_TPR), 0);
}

static void test_ipi(void)
{
	lapic_write(APIC_ICR_HI, 1u << 24);
	lapic_write(APIC_ICR_LO, TIMER_VECTOR); /* fixed, physical, edge, no shorthand */
	check(wait_flag(&vcpu1_done, 5000) && got_ipi, "lapic_ipi_fixed",
	      "vCPU 1 did not take the IPI (done %u, got %u)", vcpu1_done, got_ipi);
}

static void test_ioapic(void)
{
	u32 ver;

	mmio_write32(IOAPIC, 1); /* IOREGSEL: version */
	ver = mmio_read32(IOAPIC + 0x10);
	check(((ver >> 16) & 0xff) == 23 && (ver & 0xff) >= 0x11, "ioapic_version",
	      "version register %#x, expected 24 entries", ver);
	mmio_write32(IOAPIC, 0x10); /* redirection entry 0, low half: masked at reset */
	check((mmio_read32(IOAPIC + 0x10) >> 16) & 1, "ioapic_masked_at_reset",
	      "entry 0 is %#x", mmio_read32(IOAPIC + 0x10));
}

int main(ulong arg)
{
	struct vcpu_info vi;

	hc_vcpu_info(&vi);
	if (vi.index == 1)
		vcpu1();
	if (vi.index > 1)
		cli_hlt_forever();
	test_registers();
	test_timer();
	test_cr8();
	test_ipi();
	test_ioapic();
	printf("apic: %u failure(s)\n", failures);
	return (int)failures;
}
