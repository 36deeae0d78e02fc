/*
 * A set of physical address ranges, kept sorted and disjoint: how mm_init()
 * turns the loader's memory map (which may overlap, repeat, or mark one range
 * both usable and reserved) into the RAM it may hand out.
 */
#ifndef CORE_MM_RANGES_H
#define CORE_MM_RANGES_H

#include "hv/bootinfo.h"
#include "hv/types.h"

#define MM_MAX_RANGES 256

struct mm_range {
	u64 start, end; /* [start, end) */
};

struct mm_ranges {
	struct mm_range r[MM_MAX_RANGES];
	unsigned n;
	bool overflow; /* a range was dropped for lack of room (memory lost, never gained) */
};

void mm_ranges_init(struct mm_ranges *rs);
/* Adds [start, end), merging with what it overlaps or touches. */
void mm_ranges_add(struct mm_ranges *rs, u64 start, u64 end);
/* Takes [start, end) out of the set, splitting a range when needed. */
void mm_ranges_remove(struct mm_ranges *rs, u64 start, u64 end);
u64 mm_ranges_total(const struct mm_ranges *rs);

/*
 * The usable RAM of a boot memory map: MEM_USABLE entries shrunk to whole
 * pages, at or above min_addr, minus every range any other entry marks
 * otherwise (a reserved entry wins over an overlapping usable one).
 */
void mm_ranges_from_map(struct mm_ranges *rs, const struct mem_range *map, unsigned n,
			u64 min_addr);

/*
 * Takes size bytes aligned to align (a power of two) and ending at or below
 * limit out of the set, lowest address first. Returns the start, or 0 when
 * no range can hold it.
 */
u64 mm_ranges_carve(struct mm_ranges *rs, u64 size, u64 align, u64 limit);

#endif
