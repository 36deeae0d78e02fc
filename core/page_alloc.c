/*
 * The hypervisor's physical page allocator: one page_bitmap over all usable
 * RAM above 1 MiB, under a lock, handing out zeroed pages. Below 1 MiB stays
 * out of it on purpose: the AP trampoline, the EBDA and the BIOS areas live
 * there.
 */
#include "hv/mm.h"
#include "hv/console.h"
#include "hv/spinlock.h"
#include "core/mm_bitmap.h"
#include "core/mm_ranges.h"
#include "asm/clear_page.h"
#include "asm/cpu.h"
#include "asm/idmap.h"

#define LOW_MEMORY_END (1ULL << 20)

/* The hypervisor image, from arch/x86/boot/linker.ld. */
extern char __load_start[], __image_end[];

static struct page_bitmap pages;
static spinlock_t pages_lock = SPINLOCK_INIT;
static struct mm_ranges free_ranges; /* mm_init's work area; too big for the boot stack */

static void reserve(u64 start, u64 end)
{
	mm_ranges_remove(&free_ranges, ALIGN_DOWN(start, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE));
}

/* Frees the ranges that lie in [lo, hi) to the bitmap. */
static void free_ranges_between(u64 lo, u64 hi)
{
	for (unsigned i = 0; i < free_ranges.n; i++) {
		u64 s = MAX(free_ranges.r[i].start, lo), e = MIN(free_ranges.r[i].end, hi);

		if (s < e)
			page_bitmap_free(&pages, s, (e - s) / PAGE_SIZE);
	}
}

void mm_init(const struct boot_info *bi)
{
	u64 lo, hi, npages, words, bitmap;
	int ret;

	mm_ranges_from_map(&free_ranges, bi->mmap, bi->nr_mmap, LOW_MEMORY_END);
	reserve((u64)(uintptr_t)__load_start, (u64)(uintptr_t)__image_end);
	reserve(bi->info_start, bi->info_end);
	for (unsigned i = 0; i < bi->nr_mods; i++)
		reserve(bi->mods[i].start, bi->mods[i].end);
	if (free_ranges.overflow)
		kprintf("mm: the memory map has more pieces than %u; some RAM left unused\n",
			MM_MAX_RANGES);
	if (free_ranges.n == 0)
		panic("mm: no usable RAM above 1 MiB in the memory map");

	lo = free_ranges.r[0].start;
	hi = free_ranges.r[free_ranges.n - 1].end;
	npages = (hi - lo) / PAGE_SIZE;
	words = PAGE_BITMAP_WORDS(npages);
	/* The bitmap itself comes out of the free RAM, below the 4 GiB that is mapped already. */
	bitmap = mm_ranges_carve(&free_ranges, ALIGN_UP(words * 8, PAGE_SIZE), PAGE_SIZE,
				 idmap_limit());
	if (!bitmap)
		panic("mm: no room below 4 GiB for a %lu KiB page bitmap", words * 8 / 1024);
	page_bitmap_init(&pages, lo, npages, (u64 *)(uintptr_t)bitmap);
	free_ranges_between(0, idmap_limit());

	if (hi > idmap_limit()) {
		u64 mapped_before = idmap_limit();

		ret = idmap_extend(hi);
		if (ret)
			kprintf("mm: could only map RAM up to 0x%lx (error %d); the rest is unused\n",
				idmap_limit(), ret);
		free_ranges_between(mapped_before, idmap_limit());
	}
}

u64 page_alloc(u64 npages, u64 align)
{
	u64 flags = irq_save(), pa;

	spin_lock(&pages_lock);
	pa = page_bitmap_alloc(&pages, npages, align);
	spin_unlock(&pages_lock);
	irq_restore(flags);
	if (pa)
		clear_pages((void *)(uintptr_t)pa, npages);
	return pa;
}

void page_free(u64 pa, u64 npages)
{
	u64 flags = irq_save();
	s64 ret;

	spin_lock(&pages_lock);
	ret = page_bitmap_free(&pages, pa, npages);
	spin_unlock(&pages_lock);
	irq_restore(flags);
	if (ret)
		panic("page_free(0x%lx, %lu): %s", pa, npages,
		      ret < 0 ? "not an allocated range" : "some pages were already free");
}

u64 mm_free_pages(void)
{
	return __atomic_load_n(&pages.nfree, __ATOMIC_RELAXED);
}
