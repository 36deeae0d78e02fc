/*
 * Snapshot chunks from the page allocator: 2 MiB chunks need 512 contiguous
 * pages each, but never more, so a large snapshot fits in a fragmented
 * machine. The chunk table is whole pages too.
 */
#include "hv/snapshot.h"

#include "hv/mm.h"

static u64 pages_of(size_t size)
{
	return ALIGN_UP(size, PAGE_SIZE) >> PAGE_SHIFT;
}

static void *snap_pages_alloc(void *ctx, size_t size)
{
	return (void *)(uintptr_t)page_alloc(pages_of(size), PAGE_SIZE);
}

static void snap_pages_free(void *ctx, void *p, size_t size)
{
	page_free((u64)(uintptr_t)p, pages_of(size));
}

const struct snap_alloc snap_page_alloc = {
	.alloc = snap_pages_alloc,
	.free = snap_pages_free,
};
