#include "core/mm_bitmap.h"
#include "lib/string.h"

void page_bitmap_init(struct page_bitmap *pb, u64 base, u64 npages, u64 *bits)
{
	pb->base = base;
	pb->npages = npages;
	pb->bits = bits;
	pb->nfree = 0;
	pb->hint = npages;
	memset(bits, 0, PAGE_BITMAP_WORDS(npages) * sizeof(u64));
}

/* Set bits in x (no __builtin_popcount: without -mpopcnt it calls libgcc). */
static unsigned bit_count(u64 x)
{
	unsigned n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/* The mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static u64 word_mask(unsigned lo, unsigned hi)
{
	u64 upto_hi = hi == 64 ? ~0ULL : BIT(hi) - 1;

	return upto_hi & ~(BIT(lo) - 1);
}

/* The first index in [from, to) whose bit equals want, or to. */
static u64 find_bit(const struct page_bitmap *pb, u64 from, u64 to, bool want)
{
	while (from < to) {
		u64 w = pb->bits[from / 64];
		unsigned lo = from % 64;
		unsigned hi = (to - (from - lo)) >= 64 ? 64 : (unsigned)(to - (from - lo));
		u64 m = (want ? w : ~w) & word_mask(lo, hi);

		if (m)
			return from - lo + (u64)__builtin_ctzll(m);
		from += hi - lo;
	}
	return to;
}

/* Sets bits [from, to) to free (or allocated); returns how many already were. */
static u64 set_range(struct page_bitmap *pb, u64 from, u64 to, bool free)
{
	u64 already = 0;

	while (from < to) {
		u64 *w = &pb->bits[from / 64];
		unsigned lo = from % 64;
		unsigned hi = (to - (from - lo)) >= 64 ? 64 : (unsigned)(to - (from - lo));
		u64 m = word_mask(lo, hi);

		already += bit_count((free ? *w : ~*w) & m);
		if (free)
			*w |= m;
		else
			*w &= ~m;
		from += hi - lo;
	}
	return already;
}

s64 page_bitmap_free(struct page_bitmap *pb, u64 pa, u64 npages)
{
	u64 first, already;

	if (!IS_ALIGNED(pa, PAGE_SIZE) || pa < pb->base)
		return -EINVAL;
	first = (pa - pb->base) / PAGE_SIZE;
	if (first > pb->npages || npages > pb->npages - first)
		return -EINVAL;
	already = set_range(pb, first, first + npages, true);
	pb->nfree += npages - already;
	if (npages && first < pb->hint)
		pb->hint = first;
	return (s64)already;
}

u64 page_bitmap_alloc(struct page_bitmap *pb, u64 npages, u64 align)
{
	u64 align_pages, base_pfn, i;

	if (npages == 0 || npages > pb->nfree || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	align_pages = align / PAGE_SIZE;
	base_pfn = pb->base / PAGE_SIZE;

	pb->hint = find_bit(pb, pb->hint, pb->npages, true);
	i = pb->hint;
	while (i < pb->npages) {
		/* Round the candidate up so that its physical frame is aligned. */
		u64 pfn = ALIGN_UP(base_pfn + i, align_pages);
		u64 used;

		if (pfn < base_pfn + i) /* wrapped */
			return 0;
		i = pfn - base_pfn;
		if (i >= pb->npages || npages > pb->npages - i)
			return 0;
		used = find_bit(pb, i, i + npages, false);
		if (used == i + npages) {
			set_range(pb, i, i + npages, false);
			pb->nfree -= npages;
			return pb->base + i * PAGE_SIZE;
		}
		/* Skip the allocated stretch, then try the next aligned candidate. */
		i = find_bit(pb, used, pb->npages, true);
	}
	return 0;
}
