/*
 * platform: the PC devices a VM sees besides its APICs: PCI configuration
 * mechanism 1 with a host bridge, the CMOS RTC (the machine's time of day),
 * the ACPI PM timer, the PIT's interrupt through the I/O APIC and the local
 * APIC, and ACPI S5 power-off, which ends the VM when every check passed
 * (expect=0; with a failure it exits with the count instead).
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define IOAPIC 0xfec00000ul
#define PM_TMR 0x608
#define PM1A_CNT 0x604

static u32 pci_read(u32 bdf_reg)
{
	outl(0xcf8, 0x80000000u | bdf_reg);
	return inl(0xcfc);
}

static u8 cmos(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static u32 bcd(u8 v) { return (v >> 4) * 10 + (v & 0xf); }

static void test_pci(void)
{
	check_eq("pci_host_bridge_id", pci_read(0x00), 0x12378086);
	check_eq("pci_host_bridge_class", pci_read(0x08) >> 8, 0x060000);
	check_eq("pci_absent_device", pci_read(1 << 11), 0xffffffff);
}

static void test_rtc(void)
{
	u32 year = bcd(cmos(0x32)) * 100 + bcd(cmos(0x09)), month = bcd(cmos(0x08));
	u32 day = bcd(cmos(0x07)), s0 = bcd(cmos(0x00)), s1;

	check(year >= 2024 && year < 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31,
	      "rtc_date", "%u-%02u-%02u is not today's date", year, month, day);
	delay_ns(1100000000ull);
	s1 = bcd(cmos(0x00));
	check(s1 != s0 && s0 < 60 && s1 < 60, "rtc_seconds_advance", "seconds %u then %u", s0, s1);
}

static u32 ns_to_pm_ticks(u64 ns)
{
	return (u32)div64_u32(div64_u32(ns, 1000, NULL) * 3579545ull, 1000000, NULL);
}

/* The PM timer counts at 3.579545 MHz. Each read is bracketed by two reads of
 * the hypervisor's clock, so a host that deschedules the emulator between
 * them (a loaded CI machine) widens the bounds instead of failing the test. */
static void test_pm_timer(void)
{
	u64 a0 = hc_time_ns(), b0, a1, b1;
	u32 t0 = inl(PM_TMR), t1, lo, hi;

	b0 = hc_time_ns();
	delay_ns(10000000);
	a1 = hc_time_ns();
	t1 = inl(PM_TMR);
	b1 = hc_time_ns();
	lo = ns_to_pm_ticks(a1 - b0);
	hi = ns_to_pm_ticks(b1 - a0);
	check(t1 - t0 >= lo - lo / 100 && t1 - t0 <= hi + hi / 100, "acpi_pm_timer",
	      "%u ticks, expected %u-%u", t1 - t0, lo, hi);
}

/* PIT counter 0 in mode 2 every 10 ms -> ISA IRQ 0 -> I/O APIC pin 2 ->
 * vector TIMER_VECTOR on the local APIC of vCPU 0. */
static void test_pit_through_ioapic(void)
{
	u32 before = timer_count;
	u64 t_load, t0, t_last = 0;

	mmio_write32(LAPIC + 0xf0, 0x1ff);      /* local APIC on */
	mmio_write32(IOAPIC, 0x10 + 2 * 2 + 1); /* entry 2, high: destination APIC 0 */
	mmio_write32(IOAPIC + 0x10, 0);
	mmio_write32(IOAPIC, 0x10 + 2 * 2);     /* entry 2, low: fixed, edge, unmasked */
	mmio_write32(IOAPIC + 0x10, TIMER_VECTOR);
	t_load = hc_time_ns();                  /* the load is after this */
	outb(0x43, 0x34);                       /* counter 0, LSB then MSB, mode 2 */
	outb(0x40, 11932 & 0xff);               /* 1.193182 MHz / 11932 = 100 Hz */
	outb(0x40, 11932 >> 8);
	t0 = hc_time_ns();
	for (int n = 0; n < 3; n++) {
		u32 seen = timer_count;

		irq_enable();
		while (timer_count == seen && hc_time_ns() - t0 < 1000000000ull)
			cpu_relax();
		irq_disable();
		if (timer_count == seen)
			break;
		t_last = hc_time_ns();
		mmio_write32(LAPIC + 0xb0, 0); /* EOI */
	}
	mmio_write32(IOAPIC, 0x10 + 2 * 2);
	mmio_write32(IOAPIC + 0x10, 1u << 16); /* masked again */
	/* The n-th interrupt is due n periods after the counter was loaded
	 * and is never early; it may be late on a loaded host, so the gaps
	 * between interrupts say nothing. The load happened after t_load, but
	 * maybe well before t0: this vCPU can lose its CPU between the port
	 * write and the clock read (a slice, or the emulator descheduled),
	 * which once made the third interrupt look 22.5 ms after t0. So the
	 * third one is measured from t_load: never before 30 ms (less 0.1 ms
	 * for the PIT's clock rounding). A PIT counting too fast fails this;
	 * one too slow, the 1 s limit. */
	check(timer_count - before == 3 && t_last - t_load >= 29900000, "pit_irq0_ioapic",
	      "%u interrupts, the third %llu ns after the load (expected 3, the third after "
	      ">= 30 ms: 3 periods of 10 ms)",
	      timer_count - before, (unsigned long long)(t_last - t_load));
}

int main(ulong arg)
{
	test_pci();
	test_rtc();
	test_pm_timer();
	test_pit_through_ioapic();
	printf("platform: %u failure(s)%s\n", failures, failures ? "" : "; powering off (ACPI S5)");
	if (!failures)
		outw(PM1A_CNT, (5 << 10) | (1 << 13)); /* SLP_TYP = 5 (_S5), SLP_EN */
	return (int)failures;
}
