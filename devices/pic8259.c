/*
 * The cascaded 8259A pair (devices/pic8259.h), after the Intel 8259A data sheet.
 *
 * Priority: line (priority_add + k) & 7 has priority k, 0 the highest. A
 * request is delivered when its priority beats every in-service level (in
 * special mask mode, masked in-service levels do not count; in special fully
 * nested mode the master's cascade line does not block the slave).
 */
#include "devices/pic8259.h"

#include "hv/mm.h"
#include "lib/string.h"

#define MASTER 0
#define SLAVE 1

/* The priority (0 highest) of the best line in mask, or 8 when none. */
static int priority(const struct pic8259_chip *s, u8 mask)
{
	int p = 0;

	if (!mask)
		return 8;
	while (!(mask & (1u << ((p + s->priority_add) & 7))))
		p++;
	return p;
}

/* The line this chip would ask the CPU (or the master) for, or -1. */
static int chip_pending(const struct pic8259_chip *s, bool master)
{
	u8 isr = s->isr;
	int p = priority(s, s->irr & ~s->imr);

	if (p == 8)
		return -1;
	if (s->special_mask)
		isr &= ~s->imr;
	if (master && s->sfnm)
		isr &= ~(1u << PIC_CASCADE_IRQ);
	return p < priority(s, isr) ? (p + s->priority_add) & 7 : -1;
}

static void chip_set_line(struct pic8259_chip *s, unsigned irq, bool level)
{
	u8 bit = (u8)(1u << irq);

	if (s->elcr & bit) {
		/* Level: the request follows the line. */
		if (level)
			s->irr |= bit;
		else
			s->irr &= ~bit;
	} else if (level && !(s->lines & bit)) {
		/* Edge: a rise latches a request, which stays until acknowledged
		 * (a pulse is a rise and a fall at once). */
		s->irr |= bit;
	}
	if (level)
		s->lines |= bit;
	else
		s->lines &= ~bit;
}

static void chip_intack(struct pic8259_chip *s, int irq)
{
	u8 bit = (u8)(1u << irq);

	if (s->auto_eoi) {
		if (s->rotate_on_aeoi)
			s->priority_add = (irq + 1) & 7;
	} else {
		s->isr |= bit;
	}
	if (!(s->elcr & bit))
		s->irr &= ~bit; /* a level request stays while its line is high */
}

/* Propagates the slave's output to master IRQ 2, then reports the master's INT. */
static void update(struct pic8259 *p)
{
	bool out;

	chip_set_line(&p->chip[MASTER], PIC_CASCADE_IRQ, chip_pending(&p->chip[SLAVE], false) >= 0);
	out = chip_pending(&p->chip[MASTER], true) >= 0;
	if (out == p->int_level)
		return;
	/* Read without the lock by the core (core/vcpu_irq.c): atomic. */
	__atomic_store_n(&p->int_level, out, __ATOMIC_RELEASE);
	if (p->int_changed)
		p->int_changed(p->int_ctx, out);
}

static void write_icw1(struct pic8259_chip *s, u8 v)
{
	/* The edge sense circuit resets: an edge line must rise again; a level
	 * line still high still asks. */
	s->irr = s->lines & s->elcr;
	s->isr = 0;
	s->imr = 0;
	s->priority_add = 0;
	s->special_mask = false;
	s->read_isr = false;
	s->poll = false;
	s->auto_eoi = false;
	s->rotate_on_aeoi = false;
	s->sfnm = false;
	s->icw4_needed = v & PIC_ICW1_IC4;
	s->single = v & PIC_ICW1_SNGL;
	s->icw_step = 2;
}

static void write_ocw2(struct pic8259_chip *s, u8 v)
{
	unsigned level = v & 7;
	int p, irq;

	switch (v >> 5) {
	case PIC_OCW2_ROTATE_AEOI_CLEAR:
		s->rotate_on_aeoi = false;
		break;
	case PIC_OCW2_ROTATE_AEOI_SET:
		s->rotate_on_aeoi = true;
		break;
	case PIC_OCW2_EOI:
	case PIC_OCW2_ROTATE_EOI:
		p = priority(s, s->isr);
		if (p == 8)
			break;
		irq = (p + s->priority_add) & 7;
		s->isr &= ~(1u << irq);
		if (v >> 5 == PIC_OCW2_ROTATE_EOI)
			s->priority_add = (irq + 1) & 7;
		break;
	case PIC_OCW2_SPECIFIC_EOI:
		s->isr &= ~(1u << level);
		break;
	case PIC_OCW2_ROTATE_SPECIFIC_EOI:
		s->isr &= ~(1u << level);
		s->priority_add = (level + 1) & 7;
		break;
	case PIC_OCW2_SET_PRIORITY:
		s->priority_add = (level + 1) & 7; /* level becomes the lowest */
		break;
	default:
		break; /* no operation */
	}
}

static void write_ocw3(struct pic8259_chip *s, u8 v)
{
	if (v & PIC_OCW3_P)
		s->poll = true;
	if (v & PIC_OCW3_RR)
		s->read_isr = v & PIC_OCW3_RIS;
	if (v & PIC_OCW3_ESMM)
		s->special_mask = v & PIC_OCW3_SMM;
}

static void write_data(struct pic8259_chip *s, u8 v)
{
	switch (s->icw_step) {
	case 2:
		s->vector_base = v & 0xf8;
		s->icw_step = s->single ? (s->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		s->icw3 = v; /* the cascade is wired on IRQ 2 whatever it says */
		s->icw_step = s->icw4_needed ? 4 : 0;
		break;
	case 4:
		s->auto_eoi = v & PIC_ICW4_AEOI;
		s->sfnm = v & PIC_ICW4_SFNM;
		s->icw_step = 0;
		break;
	default:
		s->imr = v; /* OCW1 */
		break;
	}
}

/* Poll: the read is an acknowledge; bit 7 says whether there was a request. */
static u8 poll_read(struct pic8259_chip *s, bool master)
{
	int irq = chip_pending(s, master);

	s->poll = false;
	if (irq < 0)
		return 0;
	chip_intack(s, irq);
	return (u8)(0x80 | irq);
}

static int chip_read(struct pic8259 *p, unsigned which, u64 offset, u8 size, u64 *val)
{
	struct pic8259_chip *s = &p->chip[which];
	u8 v;

	if (size != 1 || offset >= PIC_NR_PORTS) {
		*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
		return 0;
	}
	spin_lock(&p->lock);
	if (offset == 1)
		v = s->imr;
	else if (s->poll)
		v = poll_read(s, which == MASTER);
	else
		v = s->read_isr ? s->isr : s->irr;
	update(p);
	spin_unlock(&p->lock);
	*val = v;
	return 0;
}

static int chip_write(struct pic8259 *p, unsigned which, u64 offset, u8 size, u64 val)
{
	struct pic8259_chip *s = &p->chip[which];
	u8 v = (u8)val;

	if (size != 1 || offset >= PIC_NR_PORTS)
		return 0;
	spin_lock(&p->lock);
	if (offset == 1)
		write_data(s, v);
	else if (v & PIC_ICW1)
		write_icw1(s, v);
	else if (v & PIC_OCW3)
		write_ocw3(s, v);
	else
		write_ocw2(s, v);
	update(p);
	spin_unlock(&p->lock);
	return 0;
}

static int master_read(void *dev, u64 offset, u8 size, u64 *val)
{
	return chip_read(dev, MASTER, offset, size, val);
}

static int master_write(void *dev, u64 offset, u8 size, u64 val)
{
	return chip_write(dev, MASTER, offset, size, val);
}

static int slave_read(void *dev, u64 offset, u8 size, u64 *val)
{
	return chip_read(dev, SLAVE, offset, size, val);
}

static int slave_write(void *dev, u64 offset, u8 size, u64 val)
{
	return chip_write(dev, SLAVE, offset, size, val);
}

const struct io_ops pic_master_ops = {
	.read = master_read,
	.write = master_write,
};

const struct io_ops pic_slave_ops = {
	.read = slave_read,
	.write = slave_write,
};

static void set_elcr(struct pic8259_chip *s, u8 v)
{
	u8 to_level = (u8)(v & s->elcr_mask & ~s->elcr);

	s->elcr = v & s->elcr_mask;
	/* A line turned level asks while it is high. */
	s->irr = (s->irr & ~to_level) | (s->lines & to_level);
}

/* One byte per chip; a word access covers both. */
static int elcr_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct pic8259 *p = dev;
	u64 v = 0;

	spin_lock(&p->lock);
	for (unsigned i = 0; i < size; i++)
		v |= (u64)(offset + i < 2 ? p->chip[offset + i].elcr : 0xff) << (i * 8);
	spin_unlock(&p->lock);
	*val = v;
	return 0;
}

static int elcr_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct pic8259 *p = dev;

	spin_lock(&p->lock);
	for (unsigned i = 0; i < size; i++)
		if (offset + i < 2)
			set_elcr(&p->chip[offset + i], (u8)(val >> (i * 8)));
	update(p);
	spin_unlock(&p->lock);
	return 0;
}

const struct io_ops pic_elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
};

/* One chip as a PC BIOS leaves it. The input lines are wires the devices
 * drive, not the chip's state: they are kept, and a level line still high
 * asks again through the ELCR. */
static void chip_init(struct pic8259_chip *s, u8 vector_base, u8 elcr_mask, u8 elcr)
{
	u8 lines = s->lines;

	memset(s, 0, sizeof(*s));
	s->lines = lines;
	s->vector_base = vector_base;
	s->elcr_mask = elcr_mask;
	set_elcr(s, elcr);
}

static void pics_init(struct pic8259 *p)
{
	chip_init(&p->chip[MASTER], 0x08, PIC_ELCR_MASK_MASTER, (u8)PIC_ELCR_DEFAULT);
	chip_init(&p->chip[SLAVE], 0x70, PIC_ELCR_MASK_SLAVE, (u8)(PIC_ELCR_DEFAULT >> 8));
	/* The cascade line is the slave's output, reset with it: update() sees
	 * a rise if the slave asks again. */
	p->chip[MASTER].lines &= (u8)~(1u << PIC_CASCADE_IRQ);
}

struct pic8259 *pic_create(void (*int_changed)(void *ctx, bool level), void *ctx)
{
	struct pic8259 *p = kzalloc(sizeof(*p));

	if (!p)
		return NULL;
	p->int_changed = int_changed;
	p->int_ctx = ctx;
	pics_init(p);
	return p;
}

void pic_reset(struct pic8259 *pics)
{
	spin_lock(&pics->lock);
	pics_init(pics);
	update(pics); /* a high INT falls, through int_changed */
	spin_unlock(&pics->lock);
}

void pic_destroy(struct pic8259 *pics)
{
	kfree(pics);
}

void pic_set_irq(struct pic8259 *pics, u32 irq, bool level)
{
	if (irq >= PIC_NR_IRQS || irq == PIC_CASCADE_IRQ)
		return;
	spin_lock(&pics->lock);
	chip_set_line(&pics->chip[irq >> 3], irq & 7, level);
	update(pics);
	spin_unlock(&pics->lock);
}

void pic_irq_sink_set(void *pics, u32 gsi, bool level)
{
	pic_set_irq(pics, gsi, level);
}

bool pic_int_output(struct pic8259 *pics)
{
	bool out;

	spin_lock(&pics->lock);
	out = pics->int_level;
	spin_unlock(&pics->lock);
	return out;
}

/* The vector for master line irq (pending), looking through the cascade. */
static int vector_of(const struct pic8259 *p, int irq)
{
	int irq2;

	if (irq != PIC_CASCADE_IRQ)
		return p->chip[MASTER].vector_base + irq;
	irq2 = chip_pending(&p->chip[SLAVE], false);
	return p->chip[SLAVE].vector_base + (irq2 >= 0 ? irq2 : 7);
}

int pic_pending_vector(struct pic8259 *pics)
{
	int irq, vec = -1;

	spin_lock(&pics->lock);
	irq = chip_pending(&pics->chip[MASTER], true);
	if (irq >= 0)
		vec = vector_of(pics, irq);
	spin_unlock(&pics->lock);
	return vec;
}

int pic_ack(struct pic8259 *pics)
{
	struct pic8259_chip *m = &pics->chip[MASTER], *s = &pics->chip[SLAVE];
	int irq, irq2, vec;

	spin_lock(&pics->lock);
	irq = chip_pending(m, true);
	if (irq < 0) {
		vec = m->vector_base + 7; /* spurious: no ISR bit */
	} else {
		vec = vector_of(pics, irq);
		chip_intack(m, irq);
		if (irq == PIC_CASCADE_IRQ) {
			irq2 = chip_pending(s, false);
			if (irq2 >= 0)
				chip_intack(s, irq2);
		}
	}
	update(pics);
	spin_unlock(&pics->lock);
	return vec;
}
