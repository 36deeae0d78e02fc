/*
 * Dirty logging: which guest pages were written since the last harvest,
 * by the guest or by the hypervisor for it. The hypervisor's writes are
 * marked by the accessors (core/gmem_access.c). The guest's are caught by
 * write-protecting RAM at 4 KiB in the nested tables: the first write to a
 * page exits (AMD-V nested page fault, APM vol. 2, 15.25.6; VT-x EPT
 * violation, SDM vol. 3, 29.3.3.2), is marked here and the page is made
 * writable again, so each page costs one exit per harvest interval. Where
 * the CPU sets dirty flags in EPT leaves (gmem.hw_dirty), nothing is
 * protected and a harvest collects those flags instead.
 */
#include "hv/gmem.h"
#include "hv/vm.h"
#include "lib/string.h"

/* The image links no libgcc (__popcountdi2) and may run on CPUs without POPCNT. */
static u64 popcount64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static u64 nr_pages(const struct gmem *g)
{
	return g->size / PAGE_SIZE;
}

/* The 512 leaves of chunk c (split), or NULL. */
static u64 *leaves_of(const struct gmem *g, u64 c)
{
	int at;
	const u64 *pde = pt_walk(g->pt.root, c * GMEM_CHUNK, 1, g->pt.fmt, NULL, &at);

	if (!pde || at != 1 || !(*pde & g->pt.fmt->present) || pt_is_large(g->pt.fmt, *pde))
		return NULL;
	return pt_table_at(*pde & PT_ADDR_MASK);
}

/*
 * hw_dirty: moves the dirty bits of the leaves into the bitmap (clear: false)
 * or just clears them (clear: true). The caller flushes afterwards, or a
 * CPU that cached a translation as dirty would write on without setting
 * the bit again (SDM vol. 3, 29.4.3.3); the pages it writes until then are
 * marked now, and read after.
 */
static void take_hw_dirty(struct gmem *g, bool clear)
{
	u64 d = g->pt.fmt->dirty;

	for (u64 c = 0; c < g->nr_chunks; c++) {
		u64 *t = g->chunks[c] ? leaves_of(g, c) : NULL; /* not a BAR in the hole */

		for (u64 i = 0; t && i < 512; i++) {
			if (!(t[i] & d))
				continue;
			__atomic_fetch_and(&t[i], ~d, __ATOMIC_RELAXED);
			if (!clear) {
				u64 pfn = c * 512 + i;

				__atomic_fetch_or(&g->dirty[pfn / 64], 1ULL << (pfn % 64),
						  __ATOMIC_RELAXED);
			}
		}
	}
}

/*
 * Sets RAM's leaves writable or read-only, range by range: the hole between
 * may hold a passed-through BAR (gmem_pt_map_mmio), which is not ours to
 * protect.
 */
static int protect_ram(struct gmem *g, bool writable)
{
	int err = nested_pt_protect(&g->pt, 0, g->low_end, writable);

	if (!err && g->high_start < g->size)
		err = nested_pt_protect(&g->pt, g->high_start, g->size - g->high_start, writable);
	return err;
}

/* Merges every chunk back to one 2 MiB leaf (all writable first). */
static void merge_all(struct gmem *g)
{
	protect_ram(g, true);
	for (u64 i = 0; i < g->nr_chunks; i++)
		if (g->chunks[i])
			nested_pt_merge(&g->pt, i * GMEM_CHUNK);
}

int gmem_dirty_log_start(struct vm *vm)
{
	struct gmem *g = &vm->gmem;
	int err = 0;

	spin_lock(&g->lock);
	if (g->logging) {
		spin_unlock(&g->lock);
		return 0;
	}
	/* One table per chunk (4 KiB per 2 MiB of RAM), taken now so a
	 * guest write never needs memory. */
	for (u64 i = 0; !err && i < g->nr_chunks; i++)
		if (g->chunks[i])
			err = nested_pt_split(&g->pt, i * GMEM_CHUNK);
	if (!err && g->hw_dirty)
		take_hw_dirty(g, true); /* the CPU marks from here on */
	else if (!err)
		err = protect_ram(g, false);
	if (err) {
		merge_all(g);
	} else {
		/* The log starts empty: what was written before is not news. */
		memset(g->dirty, 0, ALIGN_UP(nr_pages(g), 64) / 8);
		g->logging = true;
	}
	spin_unlock(&g->lock);
	gmem_tlb_shootdown(vm);
	return err;
}

void gmem_dirty_log_stop(struct vm *vm)
{
	struct gmem *g = &vm->gmem;

	spin_lock(&g->lock);
	g->logging = false;
	merge_all(g);
	spin_unlock(&g->lock);
	/* Page size changed under cached translations (SDM vol. 3, 4.10.2.3). */
	gmem_tlb_shootdown(vm);
}

bool gmem_dirty_fault(struct vm *vm, u64 gpa)
{
	struct gmem *g = &vm->gmem;
	bool writable;

	if (!gmem_in_ram(g, gpa, 1))
		return false;
	spin_lock(&g->lock);
	if (g->logging) {
		gmem_mark_dirty(vm, gpa, 1);
		/* Adding a right needs no flush: the faulting translation is
		 * not kept (APM vol. 2, 15.25.10; SDM vol. 3, 29.4.3.3). */
		nested_pt_protect(&g->pt, ALIGN_DOWN(gpa, PAGE_SIZE), PAGE_SIZE, true);
	}
	/* Not logging but writable: a fault from just before logging stopped. */
	writable = nested_pt_writable(&g->pt, gpa);
	spin_unlock(&g->lock);
	return writable;
}

u64 gmem_dirty_harvest(struct vm *vm, u64 *bitmap, u64 nbits)
{
	struct gmem *g = &vm->gmem;
	u64 n = MIN(nbits, nr_pages(g)), count = 0;

	memset(bitmap, 0, ALIGN_UP(nbits, 64) / 8);
	spin_lock(&g->lock);
	if (g->logging && g->hw_dirty)
		take_hw_dirty(g, false);
	for (u64 w = 0; w * 64 < n; w++) {
		u64 mask = n - w * 64 >= 64 ? ~0ULL : (1ULL << (n - w * 64)) - 1;
		u64 bits = __atomic_fetch_and(&g->dirty[w], ~mask, __ATOMIC_ACQ_REL) & mask;

		bitmap[w] = bits;
		count += popcount64(bits);
		/* Written pages are writable again: protect them for the next
		 * round. Their contents are read after we return, after the
		 * flush, so a write that slips in before it is not lost. */
		for (u64 b = bits; g->logging && !g->hw_dirty && b; b &= b - 1)
			nested_pt_protect(&g->pt, (w * 64 + (u64)__builtin_ctzll(b)) * PAGE_SIZE,
					  PAGE_SIZE, false);
	}
	spin_unlock(&g->lock);
	if (g->logging && count)
		gmem_tlb_shootdown(vm);
	return count;
}

u64 gmem_dirty_count(const struct vm *vm)
{
	const struct gmem *g = &vm->gmem;
	bool hw = g->logging && g->hw_dirty;
	u64 count = 0;

	for (u64 w = 0; w * 64 < nr_pages(g); w++) {
		u64 bits = __atomic_load_n(&g->dirty[w], __ATOMIC_RELAXED);
		/* 8 words per chunk */
		const u64 *t = hw && g->chunks[w / 8] ? leaves_of(g, w / 8) : NULL;

		for (unsigned i = 0; t && i < 64; i++)
			if (t[(w % 8) * 64 + i] & g->pt.fmt->dirty)
				bits |= 1ULL << i;
		count += popcount64(bits);
	}
	return count;
}
