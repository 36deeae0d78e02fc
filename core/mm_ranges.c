#include "core/mm_ranges.h"
#include "lib/string.h"

void mm_ranges_init(struct mm_ranges *rs)
{
	rs->n = 0;
	rs->overflow = false;
}

static void insert_at(struct mm_ranges *rs, unsigned i, u64 start, u64 end)
{
	if (rs->n == MM_MAX_RANGES) {
		rs->overflow = true;
		return;
	}
	memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sizeof(rs->r[0]));
	rs->r[i] = (struct mm_range){ start, end };
	rs->n++;
}

static void delete_at(struct mm_ranges *rs, unsigned i)
{
	memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(rs->r[0]));
	rs->n--;
}

void mm_ranges_add(struct mm_ranges *rs, u64 start, u64 end)
{
	unsigned i = 0;

	if (start >= end)
		return;
	/* The first range that ends at or after start can merge with us. */
	while (i < rs->n && rs->r[i].end < start)
		i++;
	if (i == rs->n || rs->r[i].start > end) {
		insert_at(rs, i, start, end);
		return;
	}
	rs->r[i].start = MIN(rs->r[i].start, start);
	rs->r[i].end = MAX(rs->r[i].end, end);
	/* Swallow the ranges the grown one now reaches. */
	while (i + 1 < rs->n && rs->r[i + 1].start <= rs->r[i].end) {
		rs->r[i].end = MAX(rs->r[i].end, rs->r[i + 1].end);
		delete_at(rs, i + 1);
	}
}

void mm_ranges_remove(struct mm_ranges *rs, u64 start, u64 end)
{
	if (start >= end)
		return;
	for (unsigned i = 0; i < rs->n;) {
		struct mm_range *r = &rs->r[i];

		if (r->end <= start || r->start >= end) {
			i++;
		} else if (r->start >= start && r->end <= end) {
			delete_at(rs, i);               /* wholly inside: gone */
		} else if (r->start < start && r->end > end) {
			u64 tail_end = r->end;          /* the hole is in the middle: split */

			r->end = start;
			insert_at(rs, i + 1, end, tail_end);
			return;
		} else if (r->start < start) {
			r->end = start;                 /* the hole covers the tail */
			i++;
		} else {
			r->start = end;                 /* the hole covers the head */
			i++;
		}
	}
}

u64 mm_ranges_total(const struct mm_ranges *rs)
{
	u64 t = 0;

	for (unsigned i = 0; i < rs->n; i++)
		t += rs->r[i].end - rs->r[i].start;
	return t;
}

/* x rounded up to a page, saturating instead of wrapping to 0. */
static u64 page_up(u64 x)
{
	return x > ~0ULL - (PAGE_SIZE - 1) ? ~0ULL : ALIGN_UP(x, PAGE_SIZE);
}

void mm_ranges_from_map(struct mm_ranges *rs, const struct mem_range *map, unsigned n,
			u64 min_addr)
{
	mm_ranges_init(rs);
	for (unsigned i = 0; i < n; i++) {
		u64 start = map[i].base, end = map[i].base + map[i].len;

		if (map[i].type != MEM_USABLE)
			continue;
		if (end < start) /* wraps past 2^64: keep what is representable */
			end = ~0ULL;
		start = MAX(page_up(start), min_addr);
		end = ALIGN_DOWN(end, PAGE_SIZE);
		mm_ranges_add(rs, start, end);
	}
	/* Anything marked otherwise, anywhere in the map, is not ours. */
	for (unsigned i = 0; i < n; i++) {
		u64 start = map[i].base, end = map[i].base + map[i].len;

		if (map[i].type == MEM_USABLE)
			continue;
		if (end < start)
			end = ~0ULL;
		mm_ranges_remove(rs, ALIGN_DOWN(start, PAGE_SIZE), page_up(end));
	}
}

u64 mm_ranges_carve(struct mm_ranges *rs, u64 size, u64 align, u64 limit)
{
	if (size == 0)
		return 0;
	for (unsigned i = 0; i < rs->n; i++) {
		u64 start = ALIGN_UP(rs->r[i].start, align);
		u64 end = MIN(rs->r[i].end, limit);

		if (start == 0) /* 0 means failure: never hand out page 0 */
			start = align;
		if (start < rs->r[i].start || start >= end || end - start < size)
			continue;
		mm_ranges_remove(rs, start, start + size);
		return start;
	}
	return 0;
}
