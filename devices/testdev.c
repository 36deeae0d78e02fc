/* The test device (devices/testdev.h): known registers for the guests' MMIO tests. */
#include "devices/testdev.h"

#include "devices/pci_intx.h"
#include "hv/mm.h"

/* The byte at offset off (little-endian within each register). */
static u8 get_byte(const struct testdev *t, u64 off)
{
	if (off < TESTDEV_SCRATCH32 + 4)
		return (u8)(t->scratch32 >> (off - TESTDEV_SCRATCH32) * 8);
	if (off >= TESTDEV_SCRATCH64 && off < TESTDEV_SCRATCH64 + 8)
		return (u8)(t->scratch64 >> (off - TESTDEV_SCRATCH64) * 8);
	if (off >= TESTDEV_ID_REG && off < TESTDEV_ID_REG + 4)
		return (u8)(TESTDEV_ID >> (off - TESTDEV_ID_REG) * 8);
	if (off >= TESTDEV_WRITES && off < TESTDEV_WRITES + 4)
		return (u8)(t->writes >> (off - TESTDEV_WRITES) * 8);
	if (off == TESTDEV_INTX)
		return t->intx;
	return 0;
}

/* The INTx# register becomes v: each function whose bit changed drives its
 * INTA# (lock held; the order is device, wiring, I/O APIC). */
static void set_intx(struct testdev *t, u8 v)
{
	u8 changed = t->intx ^ v;

	t->intx = v;
	for (unsigned f = 0; f < 8 && t->wires; f++)
		if (changed & (1u << f))
			pci_intx_set(t->wires, (u8)(TESTDEV_INTX_SLOT << 3 | f), 1, v & (1u << f));
}

/* Stores the byte at offset off if it belongs to a writable register. */
static void put_byte(struct testdev *t, u64 off, u8 b)
{
	unsigned shift;

	if (off < TESTDEV_SCRATCH32 + 4) {
		shift = (unsigned)(off - TESTDEV_SCRATCH32) * 8;
		t->scratch32 = (t->scratch32 & ~(0xffu << shift)) | (u32)b << shift;
	} else if (off >= TESTDEV_SCRATCH64 && off < TESTDEV_SCRATCH64 + 8) {
		shift = (unsigned)(off - TESTDEV_SCRATCH64) * 8;
		t->scratch64 = (t->scratch64 & ~(0xffULL << shift)) | (u64)b << shift;
	} else if (off == TESTDEV_INTX) {
		set_intx(t, b);
	}
}

/* The bus never passes an access outside the page; refuse one all the same. */
static bool in_page(u64 offset, u8 size)
{
	return size <= 8 && offset < TESTDEV_MMIO_SIZE && size <= TESTDEV_MMIO_SIZE - offset;
}

static int testdev_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct testdev *t = dev;
	u64 v = 0;

	if (!in_page(offset, size))
		return -EINVAL;
	spin_lock(&t->lock);
	for (unsigned i = 0; i < size; i++)
		v |= (u64)get_byte(t, offset + i) << (i * 8);
	spin_unlock(&t->lock);
	*val = v;
	return 0;
}

static int testdev_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct testdev *t = dev;

	if (!in_page(offset, size))
		return -EINVAL;
	spin_lock(&t->lock);
	for (unsigned i = 0; i < size; i++)
		put_byte(t, offset + i, (u8)(val >> (i * 8)));
	t->writes++;
	spin_unlock(&t->lock);
	return 0;
}

const struct io_ops testdev_ops = {
	.read = testdev_read,
	.write = testdev_write,
};

struct testdev *testdev_create(void)
{
	return kzalloc(sizeof(struct testdev));
}

void testdev_set_wires(struct testdev *dev, struct pci_intx *wires)
{
	spin_lock(&dev->lock);
	dev->wires = wires;
	spin_unlock(&dev->lock);
}

void testdev_destroy(struct testdev *dev)
{
	kfree(dev);
}

void testdev_reset(struct testdev *dev)
{
	spin_lock(&dev->lock);
	dev->scratch32 = 0;
	dev->scratch64 = 0;
	dev->writes = 0;
	set_intx(dev, 0);
	spin_unlock(&dev->lock);
}
