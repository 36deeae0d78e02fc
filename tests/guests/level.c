/*
 * level: the level-triggered path from a PCI INTx# line through the I/O
 * APIC to the local APIC, as the 82093AA and the SDM describe it (issue 15,
 * item 6). Long mode, one vCPU.
 *
 * The line is the test device's INTx# register (devices/testdev.h): bit f
 * drives INTA# of function f of PCI slot 31, which the bus's wiring ORs
 * onto GSI 23 (devices/pci_intx.h), like QEMU's pc-testdev drives lines for
 * kvm-unit-tests. The I/O APIC's entry 23 is programmed as an OS programs
 * a PCI line (level, active low) unless a check says otherwise.
 *
 *   - level_once: one interrupt; in the handler Remote IRR is set and the
 *     local APIC's TMR bit of the vector too; after EOI Remote IRR clear
 *   - level_eoi_redelivers: an EOI while the line is still asserted
 *     delivers again (three times, until the handler releases the line)
 *   - level_remote_irr_until_eoi: no EOI: Remote IRR stays set, nothing
 *     more arrives; the line released, the EOI clears Remote IRR and
 *     nothing comes
 *   - level_masked_until_unmasked: asserted while masked: nothing, and no
 *     Remote IRR; unmasked: delivered
 *   - level_wire_or: two functions assert; the first released, the line
 *     stays asserted and delivers again; both released: quiet
 *   - edge_once: the same pin edge-triggered: one interrupt per rising
 *     edge, TMR clear, no redelivery after EOI while held
 *   - rte_read_only_bits: Remote IRR and Delivery Status are not written
 *     by software (82093AA datasheet, 3.2.4)
 * arg = 1: end with HC_EXIT(0) when all passed; else the failure count.
 */
#include "guest.h"
#include "lapic.h"

#define TESTDEV 0xfeb00000ul
#define TESTDEV_INTX 0x20
#define GSI 23 /* slot 31, INTA#: 16 + (31 + 1 - 1) mod 8 */

#define IOREGSEL 0x00
#define IOWIN 0x10
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_HI(pin) (0x11 + 2 * (pin))
#define RTE_DELIVS (1u << 12)
#define RTE_LOW (1u << 13)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

#define VEC_LEVEL 0x70
#define VEC_EDGE 0x71
#define APIC_TMR 0x180

static u32 lapic_read(u32 reg) { return mmio_read32(LAPIC + reg); }
static void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }

static u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC + IOREGSEL, reg);
	return mmio_read32(IOAPIC + IOWIN);
}

static void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC + IOREGSEL, reg);
	mmio_write32(IOAPIC + IOWIN, v);
}

static void set_lines(u8 v) { mmio_write32(TESTDEV + TESTDEV_INTX, v); }
static u8 lines(void) { return (u8)mmio_read32(TESTDEV + TESTDEV_INTX); }

static bool tmr_bit(u8 vec)
{
	return lapic_read(APIC_TMR + (vec / 32) * 0x10) & (1u << (vec % 32));
}

/* What the handler does, per check. */
enum action {
	RELEASE_THEN_EOI,   /* release every line, EOI */
	EOI_UNTIL_THIRD,    /* EOI only; the third time release first */
	NOTHING,            /* neither release nor EOI */
	RELEASE_ONE_EOI,    /* release the lowest asserted function, EOI */
	EOI_ONLY,           /* EOI, the line held */
};

static volatile enum action action;
static volatile u32 count;
static volatile bool irr_in_handler, tmr_in_handler;

void level_irq(u64 vec);
void level_irq(u64 vec)
{
	u8 l;

	count++;
	irr_in_handler = ioapic_read(RTE_LO(GSI)) & RTE_REMOTE_IRR;
	tmr_in_handler = tmr_bit((u8)vec);
	switch (action) {
	case RELEASE_THEN_EOI:
		set_lines(0);
		break;
	case EOI_UNTIL_THIRD:
		if (count >= 3)
			set_lines(0);
		break;
	case NOTHING:
		return;
	case RELEASE_ONE_EOI:
		l = lines();
		set_lines(l & (u8)(l - 1));
		break;
	case EOI_ONLY:
		break;
	}
	lapic_write(APIC_EOI, 0);
}

__asm__(".text\n" GUEST_IRQ_STUB(level_stub, level_irq, 0x70) GUEST_IRQ_STUB(edge_stub, level_irq, 0x71));
extern char level_stub[], edge_stub[];

/* Entry GSI: vector vec, fixed, physical to APIC 0, with flags. */
static void program(u8 vec, u32 flags)
{
	ioapic_write(RTE_HI(GSI), 0);
	ioapic_write(RTE_LO(GSI), vec | flags);
}

/* Interrupts on until count reaches want (or 200 ms), then 5 ms more to
 * see that nothing else comes. */
static u32 run_until(u32 want)
{
	u64 end = hc_time_ns() + 200000000ull;

	irq_enable();
	while (count < want && hc_time_ns() < end)
		cpu_relax();
	delay_ns(5000000);
	irq_disable();
	return count;
}

static void start(enum action a)
{
	count = 0;
	irr_in_handler = tmr_in_handler = false;
	action = a;
}

static bool remote_irr(void) { return ioapic_read(RTE_LO(GSI)) & RTE_REMOTE_IRR; }

static void check_level_once(void)
{
	u32 n;

	program(VEC_LEVEL, RTE_LEVEL | RTE_LOW);
	start(RELEASE_THEN_EOI);
	set_lines(1);
	n = run_until(1);
	check(n == 1 && irr_in_handler && tmr_in_handler && !remote_irr() && !lines(), "level_once",
	      "%u interrupt(s), in the handler Remote IRR %d TMR %d; after EOI Remote IRR %d, lines %#x",
	      n, irr_in_handler, tmr_in_handler, remote_irr(), lines());
}

static void check_eoi_redelivers(void)
{
	u32 n;

	start(EOI_UNTIL_THIRD);
	set_lines(1);
	n = run_until(3);
	check(n == 3 && !remote_irr(), "level_eoi_redelivers",
	      "%u interrupt(s) (want 3: two EOIs with the line asserted), Remote IRR %d", n,
	      remote_irr());
}

static void check_remote_irr_until_eoi(void)
{
	bool irr_held;
	u32 n, m;

	start(NOTHING);
	set_lines(1);
	n = run_until(1);
	irr_held = remote_irr();
	set_lines(0);
	lapic_write(APIC_EOI, 0);
	m = run_until(2);
	check(n == 1 && irr_held && !remote_irr() && m == 1, "level_remote_irr_until_eoi",
	      "%u interrupt(s) before the EOI with Remote IRR %d; after release and EOI Remote IRR "
	      "%d, %u interrupt(s) in all", n, irr_held, remote_irr(), m);
}

static void check_masked(void)
{
	bool irr_masked;
	u32 n, m;

	program(VEC_LEVEL, RTE_LEVEL | RTE_LOW | RTE_MASKED);
	start(RELEASE_THEN_EOI);
	set_lines(1);
	n = run_until(1);
	irr_masked = remote_irr();
	program(VEC_LEVEL, RTE_LEVEL | RTE_LOW);
	m = run_until(1);
	check(n == 0 && !irr_masked && m == 1 && !remote_irr(), "level_masked_until_unmasked",
	      "%u interrupt(s) while masked (Remote IRR %d), %u once unmasked", n, irr_masked, m);
}

static void check_wire_or(void)
{
	u32 n;

	start(RELEASE_ONE_EOI);
	set_lines(3);
	n = run_until(2);
	check(n == 2 && !lines() && !remote_irr(), "level_wire_or",
	      "%u interrupt(s) for two functions released one by one (want 2), lines %#x", n, lines());
}

static void check_edge(void)
{
	u32 n, m;
	bool tmr;

	program(VEC_EDGE, 0); /* edge, active high */
	start(EOI_ONLY);
	set_lines(1);
	n = run_until(1);
	tmr = tmr_in_handler;
	set_lines(0);
	set_lines(1);
	m = run_until(2);
	set_lines(0);
	check(n == 1 && !tmr && m == 2, "edge_once",
	      "%u interrupt(s) while held (want 1), TMR %d; %u after a second edge (want 2)", n, tmr, m);
}

static void check_read_only_bits(void)
{
	u32 lo;

	program(VEC_LEVEL, RTE_LEVEL | RTE_LOW | RTE_MASKED | RTE_REMOTE_IRR | RTE_DELIVS);
	lo = ioapic_read(RTE_LO(GSI));
	check(lo == (VEC_LEVEL | RTE_LEVEL | RTE_LOW | RTE_MASKED), "rte_read_only_bits",
	      "entry %#x after writing %#x (want %#x)", lo,
	      VEC_LEVEL | RTE_LEVEL | RTE_LOW | RTE_MASKED | RTE_REMOTE_IRR | RTE_DELIVS,
	      VEC_LEVEL | RTE_LEVEL | RTE_LOW | RTE_MASKED);
}

int main(ulong arg)
{
	idt_set_gate(VEC_LEVEL, level_stub, 0x8e, 0);
	idt_set_gate(VEC_EDGE, edge_stub, 0x8e, 0);
	lapic_write(APIC_SVR, 0x1ff); /* software-enabled, spurious vector 0xff */

	check_level_once();
	check_eoi_redelivers();
	check_remote_irr_until_eoi();
	check_masked();
	check_wire_or();
	check_edge();
	check_read_only_bits();
	set_lines(0);
	printf("level: %u failure(s)\n", failures);
	if (arg == 1 && !failures)
		hc_exit(0);
	return (int)failures;
}
