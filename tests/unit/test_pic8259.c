/*
 * The 8259A pair: Linux's init sequence and probe, priority and EOI, the
 * cascade, edge and level lines through the ELCR, auto-EOI, rotation, poll,
 * special mask mode, spurious vectors and the INT callback.
 */
#include "unit.h"
#include "devices/pic8259.h"

#include <string.h>
#include "hv/bus.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static int int_calls;
static bool int_now;

static void int_changed(void *ctx, bool level)
{
	CHECK(ctx == &int_calls);
	CHECK(level != int_now);
	int_now = level;
	int_calls++;
}

static struct bus pio;
static struct pic8259 *pic;

static void outb(u16 port, u8 v)
{
	CHECK_EQ(bus_write(&pio, port, 1, v), 0);
}

static u8 inb(u16 port)
{
	u64 v = 0xdead;

	CHECK_EQ(bus_read(&pio, port, 1, &v), 0);
	return (u8)v;
}

/* arch/x86/kernel/i8259.c init_8259A(): ICW1 0x11, ICW2 0x30/0x38, ICW3 4/2, ICW4. */
static void linux_init(bool auto_eoi)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x11);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, auto_eoi ? 0x03 : 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x38);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, 0x00);
	outb(0xa1, 0x00);
}

static void setup(void)
{
	memset(&pio, 0, sizeof(pio));
	int_calls = 0;
	int_now = false;
	pic = pic_create(int_changed, &int_calls);
	CHECK(pic != NULL);
	CHECK_EQ(bus_register(&pio, PIC_MASTER_BASE, PIC_NR_PORTS, "pic1", &pic_master_ops, pic), 0);
	CHECK_EQ(bus_register(&pio, PIC_SLAVE_BASE, PIC_NR_PORTS, "pic2", &pic_slave_ops, pic), 0);
	CHECK_EQ(bus_register(&pio, PIC_ELCR_BASE, PIC_ELCR_NR_PORTS, "elcr", &pic_elcr_ops, pic), 0);
}

static void pulse(u32 irq)
{
	pic_set_irq(pic, irq, true);
	pic_set_irq(pic, irq, false);
}

static u8 read_irr(u16 base)
{
	outb(base, 0x0a);
	return inb(base);
}

static u8 read_isr(u16 base)
{
	outb(base, 0x0b);
	return inb(base);
}

TEST(linux_probe_and_init)
{
	setup();
	/* probe_8259A(): the master's IMR reads back what was written. */
	outb(0xa1, 0xff);
	outb(0x21, 0xfb);
	CHECK_EQ(inb(0x21), 0xfb);
	linux_init(false);
	CHECK_EQ(inb(0x21), 0);
	CHECK_EQ(inb(0xa1), 0);
	CHECK_EQ(pic_pending_vector(pic), -1);
	pulse(0);
	CHECK(int_now);
	CHECK_EQ(pic_pending_vector(pic), 0x30);
	CHECK_EQ(pic_ack(pic), 0x30);
	CHECK(!int_now);
	CHECK_EQ(read_isr(0x20), 0x01);
	CHECK_EQ(read_irr(0x20), 0x00);
	outb(0x20, 0x20); /* non-specific EOI */
	CHECK_EQ(read_isr(0x20), 0x00);
	pulse(8);
	CHECK_EQ(pic_ack(pic), 0x38);
	pic_destroy(pic);
}

TEST(priority_and_nesting)
{
	setup();
	linux_init(false);
	pulse(3);
	pulse(1);
	CHECK_EQ(read_irr(0x20), 0x0a);
	CHECK_EQ(pic_ack(pic), 0x31);
	CHECK(!int_now); /* IRQ 3 waits behind IRQ 1 in service */
	CHECK_EQ(pic_pending_vector(pic), -1);
	pulse(0); /* a higher priority nests */
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x30);
	CHECK_EQ(read_isr(0x20), 0x03);
	outb(0x20, 0x20); /* ends IRQ 0, the highest in service */
	CHECK_EQ(read_isr(0x20), 0x02);
	CHECK(!int_now);
	outb(0x20, 0x61); /* specific EOI, IRQ 1 */
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x33);
	outb(0x20, 0x63);
	CHECK_EQ(read_isr(0x20), 0);
	/* Masked lines wait in IRR. */
	outb(0x21, 0x10);
	pulse(4);
	CHECK(!int_now);
	CHECK_EQ(read_irr(0x20), 0x10);
	outb(0x21, 0x00);
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x34);
	pic_destroy(pic);
}

TEST(cascade)
{
	setup();
	linux_init(false);
	pulse(12);
	CHECK(int_now);
	CHECK_EQ(read_irr(0x20), 0x04);
	CHECK_EQ(read_irr(0xa0), 0x10);
	CHECK_EQ(pic_pending_vector(pic), 0x3c);
	CHECK_EQ(pic_ack(pic), 0x3c);
	CHECK_EQ(read_isr(0x20), 0x04);
	CHECK_EQ(read_isr(0xa0), 0x10);
	/* A higher slave line waits until the master's IRQ 2 is ended too. */
	pulse(11); /* (9 is level-triggered: a pulse on it is gone) */
	CHECK(!int_now);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x3b);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	/* The master's mask on IRQ 2 holds back the whole slave. */
	outb(0x21, 0x04);
	pulse(15);
	CHECK(!int_now);
	outb(0x21, 0x00);
	CHECK_EQ(pic_ack(pic), 0x3f);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	/* Line 2 itself is the cascade; set from outside it is ignored. */
	pulse(2);
	CHECK(!int_now);
	pic_irq_sink_set(pic, 16, true);
	pic_irq_sink_set(pic, 23, true);
	CHECK(!int_now);
	struct irq_sink s = { .set = pic_irq_sink_set, .ctx = pic };
	irq_pulse(&s, 14);
	CHECK_EQ(pic_ack(pic), 0x3e);
	pic_destroy(pic);
}

TEST(spurious)
{
	setup();
	linux_init(false);
	CHECK_EQ(pic_ack(pic), 0x37);
	CHECK_EQ(read_isr(0x20), 0);
	/* The slave asked, then was masked before the acknowledge: IRQ 15's vector. */
	pulse(10);
	CHECK(int_now);
	outb(0xa1, 0x04);
	CHECK_EQ(pic_ack(pic), 0x3f);
	CHECK_EQ(read_isr(0xa0), 0);
	CHECK_EQ(read_isr(0x20), 0x04); /* the master did see IRQ 2 */
	pic_destroy(pic);
}

TEST(edge_and_level_elcr)
{
	setup();
	linux_init(false);
	CHECK_EQ(inb(0x4d0), 0x00);
	CHECK_EQ(inb(0x4d1), 0x02); /* IRQ 9, the SCI */
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	CHECK_EQ(inb(0x4d0), PIC_ELCR_MASK_MASTER);
	CHECK_EQ(inb(0x4d1), PIC_ELCR_MASK_SLAVE);
	u64 v;
	CHECK_EQ(bus_read(&pio, 0x4d0, 2, &v), 0);
	CHECK_EQ(v, 0xdef8);
	CHECK_EQ(bus_write(&pio, 0x4d0, 2, 0x0220), 0); /* IRQ 5 and 9 level */
	CHECK_EQ(inb(0x4d0), 0x20);
	CHECK_EQ(inb(0x4d1), 0x02);

	/* Level: asks again after EOI while high; stops when the line drops. */
	pic_set_irq(pic, 9, true);
	CHECK_EQ(pic_ack(pic), 0x39);
	CHECK_EQ(read_irr(0xa0), 0x02); /* the line is still high */
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x39);
	pic_set_irq(pic, 9, false);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(!int_now);
	CHECK_EQ(read_irr(0xa0), 0);
	/* A level line that drops before the acknowledge is gone. */
	pic_set_irq(pic, 5, true);
	CHECK(int_now);
	pic_set_irq(pic, 5, false);
	CHECK(!int_now);

	/* Edge: held high it asks once. */
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_ack(pic), 0x31);
	outb(0x20, 0x20);
	CHECK(!int_now);
	pic_set_irq(pic, 1, true);
	CHECK(!int_now);
	pic_set_irq(pic, 1, false);
	pic_set_irq(pic, 1, true);
	CHECK_EQ(pic_ack(pic), 0x31);
	outb(0x20, 0x20);
	/* Turning a high line to level makes it ask. */
	pic_set_irq(pic, 6, true);
	CHECK_EQ(pic_ack(pic), 0x36);
	outb(0x20, 0x20);
	outb(0x4d0, 0x60);
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x36);
	pic_destroy(pic);
}

TEST(auto_eoi)
{
	setup();
	linux_init(true);
	pulse(3);
	CHECK_EQ(pic_ack(pic), 0x33);
	CHECK_EQ(read_isr(0x20), 0);
	pulse(5);
	CHECK(int_now); /* nothing in service to block it */
	CHECK_EQ(pic_ack(pic), 0x35);
	/* Rotate in auto-EOI mode: the line served becomes the lowest. */
	outb(0x20, 0x80);
	pulse(4);
	pulse(6);
	CHECK_EQ(pic_ack(pic), 0x34);
	pulse(4);
	CHECK_EQ(pic_ack(pic), 0x36); /* 4 is now the lowest */
	CHECK_EQ(pic_ack(pic), 0x34);
	pic_destroy(pic);
}

TEST(rotation_and_set_priority)
{
	setup();
	linux_init(false);
	outb(0x20, 0xc3); /* set priority: IRQ 3 lowest, IRQ 4 highest */
	pulse(1);
	pulse(5);
	CHECK_EQ(pic_ack(pic), 0x35);
	CHECK(!int_now);       /* 1 is below 5 now */
	outb(0x20, 0xa0);      /* rotate on non-specific EOI: 5 becomes the lowest */
	CHECK_EQ(pic_ack(pic), 0x31);
	outb(0x20, 0xe1);      /* rotate on specific EOI of 1: 2 highest */
	pulse(0);
	pulse(7);
	CHECK_EQ(pic_ack(pic), 0x37); /* order 2..7, 0, 1 */
	CHECK(!int_now);              /* 0 ranks below 7 in service */
	CHECK_EQ(pic_pending_vector(pic), -1);
	outb(0x20, 0x20);
	CHECK_EQ(pic_ack(pic), 0x30);
	pic_destroy(pic);
}

TEST(poll_mode)
{
	setup();
	linux_init(false);
	pulse(6);
	outb(0x20, 0x0c); /* OCW3: poll */
	CHECK_EQ(inb(0x20), 0x86);
	CHECK_EQ(read_isr(0x20), 0x40);
	CHECK(!int_now);
	outb(0x20, 0x0c);
	CHECK_EQ(inb(0x20), 0x00); /* nothing */
	CHECK_EQ(inb(0x20), 0x40); /* one read only: then ISR again, as OCW3 last chose */
	pic_destroy(pic);
}

TEST(special_mask_mode)
{
	setup();
	linux_init(false);
	pulse(3);
	CHECK_EQ(pic_ack(pic), 0x33);
	pulse(5);
	CHECK(!int_now);
	outb(0x20, 0x68); /* set special mask mode */
	outb(0x21, 0x08); /* mask the level in service */
	CHECK(int_now);   /* the lower line gets through */
	CHECK_EQ(pic_ack(pic), 0x35);
	outb(0x20, 0x65); /* specific EOI 5 */
	outb(0x20, 0x48); /* clear special mask mode */
	pulse(5);
	CHECK(!int_now);  /* 3 blocks it again */
	outb(0x20, 0x63);
	CHECK(int_now);
	pic_destroy(pic);
}

TEST(icw1_resets)
{
	setup();
	linux_init(false);
	outb(0x21, 0x80);
	pic_set_irq(pic, 4, true); /* edge, held high */
	CHECK(int_now);
	outb(0x20, 0x11);
	CHECK(!int_now);
	CHECK_EQ(read_irr(0x20), 0);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	CHECK_EQ(inb(0x21), 0); /* IMR cleared */
	pic_set_irq(pic, 4, true);
	CHECK(!int_now);          /* needs a new rise */
	pic_set_irq(pic, 4, false);
	pulse(4);
	CHECK_EQ(pic_ack(pic), 0x34);
	/* Single mode skips ICW3; without IC4 there is no ICW4. */
	outb(0x20, 0x12);
	outb(0x21, 0x50);
	outb(0x21, 0x02); /* OCW1 already */
	CHECK_EQ(inb(0x21), 0x02);
	pulse(0);
	CHECK_EQ(pic_ack(pic), 0x50);
	CHECK(int_calls > 0);
	pic_destroy(pic);
}

/* A reboot: both chips as created (vectors 0x08/0x70, nothing masked, ELCR
 * default), INT lowered through int_changed, which stays wired. */
TEST(reset)
{
	setup();
	linux_init(true);
	outb(0x21, 0x80);
	outb(0xa1, 0x40);
	CHECK_EQ(bus_write(&pio, 0x4d0, 2, 0x0820), 0);
	outb(0x20, 0xc3); /* a rotated priority */
	outb(0x20, 0x6b); /* special mask mode, ISR on reads */
	pulse(3);
	CHECK(int_now);
	outb(0xa0, 0x11); /* the slave in the middle of its ICWs */

	pic_reset(pic);
	CHECK(!int_now);
	CHECK_EQ(pic_pending_vector(pic), -1);
	CHECK_EQ(inb(0x21), 0);
	CHECK_EQ(inb(0xa1), 0);
	CHECK_EQ(inb(0x20), 0); /* IRR, not ISR, on reads again */
	CHECK_EQ(read_irr(0x20), 0);
	CHECK_EQ(read_isr(0x20), 0);
	CHECK_EQ(read_irr(0xa0), 0);
	CHECK_EQ(read_isr(0xa0), 0);
	CHECK_EQ(inb(0x4d0), 0x00);
	CHECK_EQ(inb(0x4d1), 0x02);

	/* Fully nested, no auto-EOI, the reset vectors; the slave takes data as OCW1. */
	outb(0xa1, 0x00);
	CHECK_EQ(inb(0xa1), 0x00);
	pulse(5);
	pulse(1);
	CHECK(int_now);
	CHECK_EQ(pic_ack(pic), 0x09);
	CHECK_EQ(pic_ack(pic), 0x0f); /* 5 waits behind 1 in service: spurious */
	CHECK_EQ(read_isr(0x20), 0x02);
	outb(0x20, 0x20);
	CHECK_EQ(pic_ack(pic), 0x0d);
	outb(0x20, 0x20);
	pulse(12);
	CHECK_EQ(pic_ack(pic), 0x74);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(!int_now);
	pic_destroy(pic);
}

/* The input lines are the devices': a level line still high asks again after
 * a reset (through the cascade too), an edge line held high needs a new rise. */
TEST(reset_keeps_line_levels)
{
	setup();
	linux_init(false);
	pic_set_irq(pic, 9, true); /* level (the SCI) */
	pic_set_irq(pic, 4, true); /* edge */
	CHECK(int_now);

	pic_reset(pic);
	CHECK(int_now); /* IRQ 9 is still asserted */
	CHECK_EQ(read_irr(0x20), 0x04);
	CHECK_EQ(read_irr(0xa0), 0x02);
	CHECK_EQ(pic_ack(pic), 0x71);
	pic_set_irq(pic, 9, false);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(!int_now);
	pic_set_irq(pic, 4, true);
	CHECK(!int_now);
	pic_set_irq(pic, 4, false);
	pic_set_irq(pic, 4, true);
	CHECK_EQ(pic_ack(pic), 0x0c);
	pic_destroy(pic);
}

int main(void)
{
	RUN(linux_probe_and_init);
	RUN(priority_and_nesting);
	RUN(cascade);
	RUN(spurious);
	RUN(edge_and_level_elcr);
	RUN(auto_eoi);
	RUN(rotation_and_set_priority);
	RUN(poll_mode);
	RUN(special_mask_mode);
	RUN(icw1_resets);
	RUN(reset);
	RUN(reset_keeps_line_levels);
	return unit_done();
}
