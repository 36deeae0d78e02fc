/* A virtual I/O APIC after the Intel 82093AA data sheet (see vioapic.h). */
#include "devices/vioapic.h"

#include "devices/apic_bus.h"
#include "devices/vlapic.h"
#include "hv/mm.h"

#define ID_MASK 0x0f000000u /* bits 27:24 */
/* Writable bits of an entry: all but delivery status and Remote IRR. */
#define RTE_WRITABLE (~(IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR) & \
		      (0xff00000000000000ULL | 0x1ffffULL))

static bool pin_asserted(const struct vioapic *io, unsigned pin)
{
	return io->level & (1u << pin);
}

/*
 * Sends pin's message (lock held). A level-triggered fixed or
 * lowest-priority one sets Remote IRR when some vLAPIC took it; until the EOI
 * clears it the pin sends nothing more.
 */
static void deliver(struct vioapic *io, unsigned pin)
{
	u64 rte = io->rte[pin];
	u8 dm = (rte >> IOAPIC_RTE_DM_SHIFT) & 7;
	bool level = rte & IOAPIC_RTE_LEVEL;
	struct apic_msg m = {
		.dest = (u32)(rte >> IOAPIC_RTE_DEST_SHIFT),
		.vector = (u8)(rte & IOAPIC_RTE_VECTOR),
		.delivery = dm,
		.shorthand = APIC_SHORTHAND_NONE,
		.logical = rte & IOAPIC_RTE_DEST_LOGICAL,
		.level = level,
		.assert = true,
		.x2apic = false,
		.src = APIC_MSG_NO_SOURCE,
	};
	bool remote_irr = level && (dm == APIC_DELIVERY_FIXED || dm == APIC_DELIVERY_LOWEST);

	if (rte & IOAPIC_RTE_MASKED)
		return;
	if (remote_irr && (rte & IOAPIC_RTE_REMOTE_IRR))
		return;
	if (apic_bus_deliver(io->bus, &m) && remote_irr)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level-triggered pin that is asserted delivers (when Remote IRR allows). */
static void service_level(struct vioapic *io, unsigned pin)
{
	if ((io->rte[pin] & IOAPIC_RTE_LEVEL) && pin_asserted(io, pin))
		deliver(io, pin);
}

void vioapic_set_line(struct vioapic *io, u32 pin, bool level)
{
	bool was;

	if (pin >= VIOAPIC_NR_PINS)
		return;
	spin_lock(&io->lock);
	was = pin_asserted(io, pin);
	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	if (io->rte[pin] & IOAPIC_RTE_LEVEL)
		service_level(io, pin);
	else if (level && !was)
		deliver(io, pin); /* edge: on the rise only */
	spin_unlock(&io->lock);
}

void vioapic_irq_set(void *ioapic, u32 gsi, bool level)
{
	vioapic_set_line(ioapic, gsi, level);
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
	spin_lock(&io->lock);
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		u64 *rte = &io->rte[pin];

		if ((*rte & IOAPIC_RTE_VECTOR) != vector || !(*rte & IOAPIC_RTE_LEVEL) ||
		    !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(io, pin);
	}
	spin_unlock(&io->lock);
}

static u32 reg_read(struct vioapic *io, u32 index)
{
	unsigned pin;

	switch (index) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB: /* the arbitration ID is loaded from the ID */
		return io->id;
	case IOAPIC_REG_VER:
		return ((VIOAPIC_NR_PINS - 1) << 16) | VIOAPIC_VERSION;
	}
	if (index < IOAPIC_REG_REDTBL || index >= IOAPIC_REG_REDTBL + 2 * VIOAPIC_NR_PINS)
		return 0;
	pin = (index - IOAPIC_REG_REDTBL) / 2;
	return index & 1 ? (u32)(io->rte[pin] >> 32) : (u32)io->rte[pin];
}

static void reg_write(struct vioapic *io, u32 index, u32 val)
{
	unsigned pin;
	u64 rte;

	if (index == IOAPIC_REG_ID) {
		io->id = val & ID_MASK;
		return;
	}
	if (index < IOAPIC_REG_REDTBL || index >= IOAPIC_REG_REDTBL + 2 * VIOAPIC_NR_PINS)
		return; /* version, arbitration: read-only; the rest: none */
	pin = (index - IOAPIC_REG_REDTBL) / 2;
	rte = io->rte[pin];
	if (index & 1)
		rte = (rte & 0xffffffffULL) | ((u64)val << 32);
	else
		rte = (rte & ~0xffffffffULL) | val;
	rte = (rte & RTE_WRITABLE) | (io->rte[pin] & IOAPIC_RTE_REMOTE_IRR);
	/* Remote IRR means nothing for an edge-triggered entry. */
	if (!(rte & IOAPIC_RTE_LEVEL))
		rte &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	/* Unmasked (or re-aimed) with the pin still asserted: deliver now. */
	service_level(io, pin);
}

static int vioapic_mmio_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct vioapic *io = dev;

	*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	spin_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		*val &= io->regsel;
	else if (offset == IOAPIC_WIN && size == 4)
		*val = reg_read(io, io->regsel);
	spin_unlock(&io->lock);
	return 0;
}

static int vioapic_mmio_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct vioapic *io = dev;

	spin_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		io->regsel = (u32)val & 0xff; /* any width: some guests write a byte */
	else if (offset == IOAPIC_WIN && size == 4)
		reg_write(io, io->regsel, (u32)val);
	spin_unlock(&io->lock);
	return 0;
}

const struct io_ops vioapic_mmio_ops = {
	.read = vioapic_mmio_read,
	.write = vioapic_mmio_write,
};

void vioapic_reset(struct vioapic *io)
{
	spin_lock(&io->lock);
	io->regsel = 0;
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		io->rte[pin] = IOAPIC_RTE_MASKED;
	spin_unlock(&io->lock);
}

struct vioapic *vioapic_create(struct apic_bus *bus, u8 id)
{
	struct vioapic *io = kzalloc(sizeof(*io));

	if (!io)
		return NULL;
	io->bus = bus;
	io->id = ((u32)id << 24) & ID_MASK;
	vioapic_reset(io);
	return io;
}

void vioapic_destroy(struct vioapic *io)
{
	kfree(io);
}
