/*
 * A VM's port or MMIO bus. A device registers a range and is handed
 * (offset within its range, size, data); it never sees the vendor or the
 * absolute address (DESIGN.md, "Devices see offsets").
 */
#ifndef HV_BUS_H
#define HV_BUS_H

#include "hv/types.h"

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

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES]; /* sorted by base, not overlapping */
	unsigned nr;
};

/* -EINVAL for an empty or wrapping range, -EEXIST on overlap, -ENOSPC when full. */
int bus_register(struct bus *bus, u64 base, u64 len, const char *name, const struct io_ops *ops,
		 void *dev);
/* The range holding [addr, addr+size), or NULL. */
const struct bus_range *bus_find(const struct bus *bus, u64 addr, u8 size);
/* -ENOENT when no device claims the access. */
int bus_read(const struct bus *bus, u64 addr, u8 size, u64 *val);
int bus_write(const struct bus *bus, u64 addr, u8 size, u64 val);

#endif
