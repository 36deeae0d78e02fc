/*
 * The 8259A pair: the BIOS leaves them delivering the PIT's IRQ 0 on vector
 * 8, which would look like a double fault. Reprogram them (Intel 8259A data
 * sheet, "Initialization Command Words") onto harmless vectors and mask all;
 * the local APICs do the hypervisor's interrupts. On a machine of one CPU
 * the PIT's IRQ 0 comes back as a second timer (arch/x86/timer_backstop.c).
 */
#include "arch/x86/i8259.h"
#include "asm/io.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC1_VECTOR I8259_VECTOR_BASE
#define PIC2_VECTOR 0x38 /* behind the master's masked IRQ 2: never delivered */

#define ICW1_INIT 0x10
#define ICW1_ICW4 0x01
#define ICW4_8086 0x01
#define OCW2_EOI 0x20      /* non-specific EOI */
#define OCW3_READ_ISR 0x0b

/* A write to an unused port: time for the old parts to settle between ICWs. */
static void io_delay(void) { outb(0x80, 0); }

static void pic_write(u16 port, u8 v)
{
	outb(port, v);
	io_delay();
}

void i8259_disable(void)
{
	pic_write(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	pic_write(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	pic_write(PIC1_DATA, PIC1_VECTOR);     /* ICW2: vector base */
	pic_write(PIC2_DATA, PIC2_VECTOR);
	pic_write(PIC1_DATA, 1 << 2);          /* ICW3: the slave hangs on IRQ 2 */
	pic_write(PIC2_DATA, 2);               /* ICW3: the slave's cascade identity */
	pic_write(PIC1_DATA, ICW4_8086);
	pic_write(PIC2_DATA, ICW4_8086);
	pic_write(PIC1_DATA, 0xff);            /* OCW1: mask everything */
	pic_write(PIC2_DATA, 0xff);
}

void i8259_unmask_irq0(void)
{
	pic_write(PIC1_DATA, 0xfe);
}

/* IRQ 7 with its ISR bit clear is the 8259's spurious interrupt (a request
 * gone before the acknowledge): it must get no EOI (data sheet, "Interrupt
 * Sequence"). */
bool i8259_irq7_spurious(void)
{
	outb(PIC1_CMD, OCW3_READ_ISR);
	return !(inb(PIC1_CMD) & 0x80);
}

void i8259_eoi(void)
{
	outb(PIC1_CMD, OCW2_EOI);
}
