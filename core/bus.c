/* Port and MMIO buses: a sorted table of non-overlapping ranges. */
#include "hv/bus.h"

int bus_register(struct bus *bus, u64 base, u64 len, const char *name, const struct io_ops *ops,
		 void *dev)
{
	unsigned i;

	if (!len || base + len < base || !ops)
		return -EINVAL;
	if (bus->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
		if (base < r->base)
			break;
	}
	for (unsigned j = bus->nr; j > i; j--)
		bus->ranges[j] = bus->ranges[j - 1];
	bus->ranges[i] = (struct bus_range){ base, len, name, ops, dev };
	bus->nr++;
	return 0;
}

/* Binary search: a VM's port bus holds a dozen ranges and is searched on
 * every port I/O exit. */
const struct bus_range *bus_find(const struct bus *bus, u64 addr, u8 size)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return size <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

int bus_read(const struct bus *bus, u64 addr, u8 size, u64 *val)
{
	const struct bus_range *r = bus_find(bus, addr, size);

	if (!r || !r->ops->read)
		return -ENOENT;
	return r->ops->read(r->dev, addr - r->base, size, val);
}

int bus_write(const struct bus *bus, u64 addr, u8 size, u64 val)
{
	const struct bus_range *r = bus_find(bus, addr, size);

	if (!r || !r->ops->write)
		return -ENOENT;
	return r->ops->write(r->dev, addr - r->base, size, val);
}
