/*
 * The 8259A pair: the BIOS leaves them delivering the PIT's IRQ 0 on vector
 * 8, which would look like a double fault. Reprogram them (Intel 8259A data
 * sheet, "Initialization Command Words") onto harmless vectors and mask all;
 * the local APICs do the hypervisor's interrupts.
 */
#include "arch/x86/i8259.h"
#include "asm/io.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC1_VECTOR 0x30
#define PIC2_VECTOR 0x38

#define ICW1_INIT 0x10
#define ICW1_ICW4 0x01
#define ICW4_8086 0x01

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
