/*
 * pic-real: a real-mode guest sets up the interrupt controller and the timer
 * the way a PC BIOS does and a DOS-era program relies on (8259A data sheet,
 * "Programming the 8259A"; 8254 data sheet): both 8259s initialized with
 * ICW1-ICW4 (edge, cascade on IRQ2, 8086 mode, normal EOI), the master's
 * vectors at TIMER_VECTOR so that the runtime's real-mode handler counts
 * IRQ 0, the PIT's channel 0 as a rate generator (mode 2) at about 1 kHz.
 * It checks:
 *   - IRQ 0 pending in the IRR (OCW3 read IRR), and not taken even with IF
 *     set while the local APIC's LINT0 is masked, as it is at reset (SDM
 *     vol. 3A, 10.4.7.1): a BIOS sets up the virtual wire (LINT0 ExtINT, MP
 *     specification 3.6.2.2), here through the x2APIC's MSRs, which real
 *     mode can reach;
 *   - then taken once, in service (OCW3 read ISR) until a non-specific EOI;
 *   - about 200 interrupts in 200 ms with an EOI after each;
 *   - none while IRQ 0 is masked in the IMR (OCW1), ticking again unmasked;
 *   - the counter latched (8254 counter-latch command) counts down;
 *   - with the local APIC disabled (IA32_APIC_BASE EN clear) the 8259 drives
 *     the CPU directly;
 *   - a one-shot count (mode 0) of 1.7 us is in the IRR 5 us later, however
 *     late the host's own timer is.
 * Exit: the number of failures.
 */
#include "guest.h"

#define PIC1 0x20
#define PIC1_DATA 0x21
#define PIC2 0xa0
#define PIC2_DATA 0xa1
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182u
#define DIVISOR 1193u /* about 1000.2 Hz */
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_EXTD (1u << 10)
#define X2APIC_SVR 0x80f
#define X2APIC_LVT_LINT0 0x835
#define X2APIC_LVT_LINT1 0x836
#define LVT_EXTINT (7u << 8)
#define LVT_NMI (4u << 8)

static u64 rdmsr_or_0(u32 msr)
{
	u64 v = 0;

	rdmsr_safe(msr, &v);
	return v;
}

static void pic_init(void)
{
	outb(PIC1, 0x11);       /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC1_DATA, TIMER_VECTOR); /* ICW2: IRQ 0-7 at vectors 0x40-0x47 */
	outb(PIC1_DATA, 1u << 2); /* ICW3: a slave on IRQ 2 */
	outb(PIC1_DATA, 0x01);  /* ICW4: 8086 mode, normal EOI */
	outb(PIC2, 0x11);
	outb(PIC2_DATA, TIMER_VECTOR + 8);
	outb(PIC2_DATA, 2);     /* ICW3: its cascade identity */
	outb(PIC2_DATA, 0x01);
	outb(PIC2_DATA, 0xff);  /* OCW1: every slave line masked */
	outb(PIC1_DATA, 0xfe);  /* OCW1: only IRQ 0 */
}

static u8 pic_reg(u8 ocw3)
{
	outb(PIC1, ocw3);
	return inb(PIC1);
}

static u16 pit_latch(void)
{
	u8 lo, hi;

	outb(PIT_CMD, 0x00); /* counter latch, channel 0 */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (u16)(lo | hi << 8);
}

/* Interrupts taken in ms of guest time, each answered with an EOI. */
static u32 count_for(u64 ms)
{
	u32 before = timer_count, seen = before;
	u64 end = hc_time_ns() + ms * 1000000ull;

	while (hc_time_ns() < end) {
		sti_hlt_cli();
		if (timer_count != seen) {
			seen = timer_count;
			outb(PIC1, PIC_EOI);
		}
	}
	return timer_count - before;
}

int main(ulong arg)
{
	u32 before, n;
	u16 c0, c1;
	u64 t0, t1;

	(void)arg;
	irq_disable();
	pic_init();
	outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
	outb(PIT_CH0, DIVISOR & 0xff);
	outb(PIT_CH0, DIVISOR >> 8);

	/* Interrupts off: the request waits in the IRR. */
	delay_ns(5000000);
	check(pic_reg(OCW3_READ_IRR) & 1, "pic_irr_pending", "IRR %#x after 5 ms", pic_reg(OCW3_READ_IRR));
	/* LINT0 masked (reset state): the 8259's INTR goes nowhere. */
	before = timer_count;
	irq_enable();
	delay_ns(5000000);
	irq_disable();
	check_eq("pic_blocked_by_masked_lint0", timer_count - before, 0);
	/* The virtual wire, as a BIOS leaves it. */
	wrmsr_safe(MSR_APIC_BASE, rdmsr_or_0(MSR_APIC_BASE) | APIC_BASE_EXTD);
	wrmsr_safe(X2APIC_SVR, 0x1ff);
	wrmsr_safe(X2APIC_LVT_LINT0, LVT_EXTINT);
	wrmsr_safe(X2APIC_LVT_LINT1, LVT_NMI);
	check_eq("lint0_extint", rdmsr_or_0(X2APIC_LVT_LINT0) & 0x1ffff, LVT_EXTINT);
	irq_enable();
	delay_ns(100000);
	irq_disable();
	check_eq("pic_taken_once_if_set", timer_count - before, 1);
	check(pic_reg(OCW3_READ_ISR) & 1, "pic_isr_until_eoi", "ISR %#x", pic_reg(OCW3_READ_ISR));
	/* In service: no second one without the EOI. */
	irq_enable();
	delay_ns(5000000);
	irq_disable();
	check_eq("pic_held_by_isr", timer_count - before, 1);
	outb(PIC1, PIC_EOI);
	check_eq("pic_isr_clear_after_eoi", pic_reg(OCW3_READ_ISR) & 1, 0);

	n = count_for(200);
	check(n >= 120 && n <= 260, "pit_rate_1khz", "%u interrupts in 200 ms, about 200 expected", n);

	outb(PIC1_DATA, 0xff); /* IRQ 0 masked */
	outb(PIC1, PIC_EOI);   /* whatever was in service */
	before = timer_count;
	irq_enable();
	delay_ns(50000000);
	irq_disable();
	check_eq("pic_masked_none", timer_count - before, 0);
	outb(PIC1_DATA, 0xfe);
	n = count_for(50);
	check(n >= 20, "pic_unmasked_ticks_again", "%u interrupts in 50 ms after unmasking", n);

	t0 = hc_time_ns();
	c0 = pit_latch();
	delay_ns(200000); /* 0.2 ms: about 239 counts of 1193 */
	c1 = pit_latch();
	t1 = hc_time_ns();
	check(c0 <= DIVISOR && c1 <= DIVISOR && c0 != c1, "pit_latch_counts",
	      "latched %u then %u, within %u ns", c0, c1, (u32)(t1 - t0));
	/* The APIC off (x2APIC to disabled in one write, SDM 10.12.5): the
	 * 8259 drives INTR directly, LINT0 or not. */
	wrmsr_safe(MSR_APIC_BASE, rdmsr_or_0(MSR_APIC_BASE) & ~(u64)(APIC_BASE_EN | APIC_BASE_EXTD));
	check_eq("apic_disabled", rdmsr_or_0(MSR_APIC_BASE) & APIC_BASE_EN, 0);
	n = count_for(50);
	check(n >= 20, "pic_direct_with_apic_off", "%u interrupts in 50 ms", n);
	/* An edge seen by the next read of the IRR, though the host timer that
	 * watches the PIT may fire much later (an emulator's timer thread, a
	 * busy host CPU): mode 0 ends its count of 2 (1.7 us) before the read,
	 * with IRQ 0 masked so that nothing takes it; a new ICW1 first clears
	 * the IRR of the edges before. */
	irq_disable();
	pic_init();
	outb(PIC1_DATA, 0xff);
	outb(PIT_CMD, 0x30); /* channel 0, lobyte/hibyte, mode 0 */
	outb(PIT_CH0, 2);
	outb(PIT_CH0, 0);
	delay_ns(5000);
	check(pic_reg(OCW3_READ_IRR) & 1, "pic_irr_at_once", "IRR %#x 5 us after a 1.7 us count",
	      pic_reg(OCW3_READ_IRR));
	printf("pic-real: %u failure(s)\n", failures);
	return (int)failures;
}
