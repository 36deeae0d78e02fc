/* Port and MMIO buses: a sorted table of non-overlapping ranges (include/hv/bus.h). */
#include "hv/bus.h"

/* A change: readers that overlap it see an odd or moved sequence and retry. */
static void change_begin(struct bus *bus)
{
	spin_lock(&bus->lock);
	__atomic_store_n(&bus->seq, bus->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void change_end(struct bus *bus)
{
	__atomic_store_n(&bus->seq, bus->seq + 1, __ATOMIC_RELEASE);
	spin_unlock(&bus->lock);
}

int bus_register(struct bus *bus, u64 base, u64 len, const char *name, const struct io_ops *ops,
		 void *dev)
{
	unsigned i;
	int err = 0;

	if (!len || base + len < base || !ops)
		return -EINVAL;
	change_begin(bus);
	if (bus->nr == BUS_MAX_RANGES)
		err = -ENOSPC;
	for (i = 0; !err && i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			err = -EEXIST;
		else if (base < r->base)
			break;
	}
	if (!err) {
		for (unsigned j = bus->nr; j > i; j--)
			bus->ranges[j] = bus->ranges[j - 1];
		bus->ranges[i] = (struct bus_range){ base, len, name, ops, dev };
		bus->nr++;
	}
	change_end(bus);
	return err;
}

int bus_unregister(struct bus *bus, u64 base, void *dev)
{
	int err = -ENOENT;

	change_begin(bus);
	for (unsigned i = 0; i < bus->nr; i++) {
		if (bus->ranges[i].base != base || bus->ranges[i].dev != dev)
			continue;
		for (unsigned j = i; j + 1 < bus->nr; j++)
			bus->ranges[j] = bus->ranges[j + 1];
		bus->nr--;
		err = 0;
		break;
	}
	change_end(bus);
	return err;
}

/* Binary search: a VM's port bus holds a dozen ranges and is searched on
 * every port I/O exit. A torn read during a change can mislead it, never
 * take it out of the table: nr is clamped, and the caller retries. */
static inline __attribute__((always_inline)) bool search(const struct bus *bus, u64 addr, u8 size,
				   struct bus_range *out)
{
	unsigned lo = 0, hi = __atomic_load_n(&bus->nr, __ATOMIC_RELAXED);

	if (hi > BUS_MAX_RANGES)
		hi = BUS_MAX_RANGES;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct bus_range *r = &bus->ranges[mid];
		u64 base = r->base, len = r->len;

		if (addr < base) {
			hi = mid;
		} else if (addr - base >= len) {
			lo = mid + 1;
		} else {
			if (size > len - (addr - base))
				return false;
			/* Field by field: a struct copy would be a call to the
			 * freestanding memcpy, a byte loop, on every port exit. */
			out->base = base;
			out->len = len;
			out->name = r->name;
			out->ops = r->ops;
			out->dev = r->dev;
			return true;
		}
	}
	return false;
}

/* Inlined into each caller: on the path of every port and MMIO exit. */
static inline __attribute__((always_inline)) bool lookup(const struct bus *bus, u64 addr, u8 size,
				   struct bus_range *out)
{
	for (;;) {
		u32 seq = __atomic_load_n(&bus->seq, __ATOMIC_ACQUIRE);
		bool found;

		if (seq & 1) {
			__builtin_ia32_pause();
			continue;
		}
		found = search(bus, addr, size, out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&bus->seq, __ATOMIC_RELAXED) == seq)
			return found;
	}
}

bool bus_lookup(const struct bus *bus, u64 addr, u8 size, struct bus_range *out)
{
	return lookup(bus, addr, size, out);
}

bool bus_claims(const struct bus *bus, u64 addr, u8 size)
{
	struct bus_range r;

	return lookup(bus, addr, size, &r);
}

/*
 * The device's handler for one access, found and called in one go: the
 * fields it needs are read inside the sequence check, into registers, and
 * the call is made after it (a device whose range moves meanwhile is still
 * alive: include/hv/bus.h). -ENOENT when no device claims the access.
 */
static inline __attribute__((always_inline)) int dispatch(const struct bus *bus, u64 addr,
							   u8 size, bool write, u64 *val,
							   bool *claimed)
{
	struct bus_range r;

	*claimed = lookup(bus, addr, size, &r);
	if (!*claimed)
		return -ENOENT;
	if (write)
		return r.ops->write ? r.ops->write(r.dev, addr - r.base, size, *val) : -ENOENT;
	return r.ops->read ? r.ops->read(r.dev, addr - r.base, size, val) : -ENOENT;
}

int bus_access(const struct bus *bus, u64 addr, u8 size, bool write, u64 *val)
{
	bool claimed;
	int err = dispatch(bus, addr, size, write, val, &claimed);

	if (!claimed)
		return -ENOENT;
	return err ? -EIO : 0;
}

int bus_read(const struct bus *bus, u64 addr, u8 size, u64 *val)
{
	bool claimed;

	return dispatch(bus, addr, size, false, val, &claimed);
}

int bus_write(const struct bus *bus, u64 addr, u8 size, u64 val)
{
	bool claimed;

	return dispatch(bus, addr, size, true, &val, &claimed);
}
