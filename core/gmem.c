/* A VM's guest-physical space: RAM in 2 MiB chunks and the nested tables that map it. */
#include "hv/gmem.h"
#include "hv/mm.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "lib/string.h"

static u64 alloc_table(void)
{
	return page_alloc(1, PAGE_SIZE);
}

static void free_table(u64 pa)
{
	page_free(pa, 1);
}

static u64 pages_for(u64 bytes)
{
	return ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
}

int gmem_init(struct vm *vm, u64 mem)
{
	struct gmem *g = &vm->gmem;
	struct gmem_layout l = gmem_layout_of(mem);
	int err;

	*g = (struct gmem){ .lock = SPINLOCK_INIT };
	if (!mem || !IS_ALIGNED(mem, GMEM_CHUNK))
		return -EINVAL;
	g->nr_chunks = gmem_layout_end(l) / GMEM_CHUNK;
	g->chunks_pages = pages_for(g->nr_chunks * sizeof(u64));
	g->dirty_pages = pages_for(ALIGN_UP(gmem_layout_end(l) / PAGE_SIZE, 64) / 8);
	g->chunks = (u64 *)(uintptr_t)page_alloc(g->chunks_pages, PAGE_SIZE);
	g->dirty = (u64 *)(uintptr_t)page_alloc(g->dirty_pages, PAGE_SIZE);
	if (!g->chunks || !g->dirty) {
		err = -ENOMEM;
		goto fail;
	}
	memset(g->chunks, 0, g->chunks_pages * PAGE_SIZE); /* the hole stays 0 */
	/* Chunk by chunk: a VM needs no contiguous host memory beyond 2 MiB,
	 * so VMs can come and go without fragmenting the machine's RAM. */
	for (u64 i = 0; i < g->nr_chunks; i++) {
		u64 gpa = i * GMEM_CHUNK;

		if (gpa >= l.low && gpa < GMEM_HIGH_START)
			continue;
		g->chunks[i] = page_alloc(GMEM_CHUNK / PAGE_SIZE, GMEM_CHUNK);
		if (!g->chunks[i]) {
			err = -ENOMEM;
			goto fail;
		}
	}
	g->size = gmem_layout_end(l);
	g->low_end = l.low;
	g->high_start = l.high ? GMEM_HIGH_START : l.low;
	err = nested_pt_init(&g->pt, vendor->pt_format, alloc_table);
	if (err)
		goto fail;
	g->pt.free_table = free_table;
	for (u64 i = 0; i < g->nr_chunks; i++) {
		if (!g->chunks[i])
			continue;
		err = nested_pt_map(&g->pt, i * GMEM_CHUNK, g->chunks[i], GMEM_CHUNK);
		if (err)
			goto fail;
	}
	return 0;
fail:
	gmem_destroy(vm);
	return err;
}

void gmem_destroy(struct vm *vm)
{
	struct gmem *g = &vm->gmem;

	nested_pt_destroy(&g->pt);
	if (g->chunks) {
		for (u64 i = 0; i < g->nr_chunks; i++)
			if (g->chunks[i])
				page_free(g->chunks[i], GMEM_CHUNK / PAGE_SIZE);
		page_free((u64)(uintptr_t)g->chunks, g->chunks_pages);
	}
	if (g->dirty)
		page_free((u64)(uintptr_t)g->dirty, g->dirty_pages);
	*g = (struct gmem){ .lock = SPINLOCK_INIT };
}

int gmem_pt_map(struct vm *vm, u64 gpa, u64 hpa, u64 size)
{
	struct gmem *g = &vm->gmem;
	int err;

	/* Adding a mapping needs no flush: nothing cached it as absent
	 * (a nested fault is not cached, APM vol. 2, 15.25.10; SDM vol. 3, 29.4.2). */
	spin_lock(&g->lock);
	err = nested_pt_map(&g->pt, gpa, hpa, size);
	spin_unlock(&g->lock);
	return err;
}

int gmem_pt_map_mmio(struct vm *vm, u64 gpa, u64 hpa, u64 size)
{
	struct gmem *g = &vm->gmem;
	int err;

	if (gmem_touches_ram(g, gpa, size ? size : 1))
		return -EEXIST; /* never over RAM, even where RAM is unmapped for now */
	spin_lock(&g->lock);
	err = nested_pt_map_uc(&g->pt, gpa, hpa, size);
	spin_unlock(&g->lock);
	return err;
}

/* Every change below may leave a translation cached that is no longer
 * allowed (or, for split and merge, one of another page size, which the
 * manuals ask to flush too: SDM vol. 3, 4.10.2.3): flush everywhere. */
int gmem_pt_unmap(struct vm *vm, u64 gpa, u64 size)
{
	struct gmem *g = &vm->gmem;
	int err;

	spin_lock(&g->lock);
	err = nested_pt_unmap(&g->pt, gpa, size);
	spin_unlock(&g->lock);
	gmem_tlb_shootdown(vm);
	return err;
}

int gmem_pt_protect(struct vm *vm, u64 gpa, u64 size, bool writable)
{
	struct gmem *g = &vm->gmem;
	int err;

	spin_lock(&g->lock);
	err = nested_pt_protect(&g->pt, gpa, size, writable);
	spin_unlock(&g->lock);
	if (!writable)
		gmem_tlb_shootdown(vm);
	return err;
}

int gmem_pt_split(struct vm *vm, u64 gpa)
{
	struct gmem *g = &vm->gmem;
	int err;

	spin_lock(&g->lock);
	err = nested_pt_split(&g->pt, gpa);
	spin_unlock(&g->lock);
	gmem_tlb_shootdown(vm);
	return err;
}

int gmem_pt_merge(struct vm *vm, u64 gpa)
{
	struct gmem *g = &vm->gmem;
	int err;

	spin_lock(&g->lock);
	err = nested_pt_merge(&g->pt, gpa);
	spin_unlock(&g->lock);
	gmem_tlb_shootdown(vm);
	return err;
}
