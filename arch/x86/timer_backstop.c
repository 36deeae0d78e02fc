/*
 * A second timer for a machine of one CPU (hv/platform.h): the PIT's
 * channel 0 at its slowest, a count of 65536 in mode 2 (18.2 Hz; Intel
 * 8254 data sheet), through the master 8259's IRQ 0 and the boot CPU's
 * LINT0 in ExtINT mode.
 *
 * Why: under QEMU 7.2's TCG the local APIC timer's interrupt is now and then
 * left waiting in the APIC's IRR, undelivered, until something makes the
 * APIC look again (core/sched_timer.c, sched_timer_before_halt). A CPU that
 * sleeps in HLT then sleeps for good, and CPU 0, which watches every VM's
 * PIT, RTC and halted vCPUs, stops them all. With two CPUs or more each one
 * kicks a neighbour whose ticks stopped; one CPU alone has no neighbour, and
 * the arrival of this interrupt is what makes its APIC look again.
 */
#include "hv/platform.h"
#include "arch/x86/i8259.h"
#include "arch/x86/lapic.h"
#include "asm/io.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE2 0x34 /* channel 0, lobyte/hibyte, rate generator, binary */

static void (*backstop_fn)(void);

static void pit_irq(void *ctx)
{
	(void)ctx;
	backstop_fn();
	i8259_eoi();
}

static void pic_irq7(void *ctx)
{
	(void)ctx;
	if (!i8259_irq7_spurious())
		i8259_eoi();
}

void timer_backstop_start(void (*fn)(void))
{
	backstop_fn = fn;
	irq_register(I8259_VECTOR_BASE, pit_irq, NULL);
	irq_register(I8259_VECTOR_BASE + 7, pic_irq7, NULL);
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE2);
	outb(PIT_CH0, 0); /* 0 is 65536 */
	outb(PIT_CH0, 0);
	i8259_unmask_irq0();
	apic_lint0_extint();
}
