/*
 * A VM's port or MMIO bus. A device registers a range and is handed
 * (offset within its range, size, data); it never sees the vendor or the
 * absolute address (DESIGN.md, "Devices see offsets").
 */
#ifndef HV_BUS_H
#define HV_BUS_H

#include "hv/types.h"
#include "hv/spinlock.h"

struct io_ops {
	/* size is 1, 2, 4 or 8. Return 0, or a negative errno (the access is then
	 * treated as unclaimed for reads: all ones; ignored for writes). */
	int (*read)(void *dev, u64 offset, u8 size, u64 *val);
	int (*write)(void *dev, u64 offset, u8 size, u64 val);
};

struct bus_range {
	u64 base, len;
	const char *name;
	const struct io_ops *ops;
	void *dev;
};

#define BUS_MAX_RANGES 32

/*
 * Ranges change rarely (a device comes or goes, a PCI BAR moves) and are
 * looked up on every exit, by every vCPU of the VM at once. Lookups take no
 * lock: they read under a sequence count and retry if a change was under
 * way (in the spirit of Jailhouse's mmio.c); changes serialize on `lock`.
 * A device whose range is unregistered may still be called by a lookup
 * that began before: free it only once the VM has been quiesced.
 */
struct bus {
	struct bus_range ranges[BUS_MAX_RANGES]; /* sorted by base, not overlapping */
	unsigned nr;
	u32 seq;        /* odd while a change is under way */
	spinlock_t lock; /* serializes changes */
};

/* An empty bus (a zeroed struct bus is one too). */
static inline void bus_init(struct bus *bus)
{
	bus->nr = 0;
	bus->seq = 0;
	bus->lock = (spinlock_t)SPINLOCK_INIT;
}

/* -EINVAL for an empty or wrapping range, -EEXIST on overlap, -ENOSPC when full. */
int bus_register(struct bus *bus, u64 base, u64 len, const char *name, const struct io_ops *ops,
		 void *dev);
/* Removes the range starting at base that dev registered; -ENOENT if none. */
int bus_unregister(struct bus *bus, u64 base, void *dev);
/* Copies the range holding [addr, addr+size) into *out; false when none does. */
bool bus_lookup(const struct bus *bus, u64 addr, u8 size, struct bus_range *out);
/* Does a device claim [addr, addr+size)? */
bool bus_claims(const struct bus *bus, u64 addr, u8 size);
/* -ENOENT when no device claims the access. */
int bus_read(const struct bus *bus, u64 addr, u8 size, u64 *val);
/* A read (into *val) or a write (of *val) that tells the two failures apart
 * with one lookup: -ENOENT when no device claims it, -EIO when the device
 * failed it. */
int bus_access(const struct bus *bus, u64 addr, u8 size, bool write, u64 *val);
int bus_write(const struct bus *bus, u64 addr, u8 size, u64 val);

#endif
