/*
 * The heap behind kmalloc(): power-of-two size classes from 32 to 2048 bytes
 * carved out of whole pages, larger blocks straight from the page allocator.
 * Every block starts with a 16-byte header that tells free() its size. Pages
 * of a size class are kept by that class once carved (a hypervisor's small
 * objects live as long as their VMs). No locking: core/heap.c adds it.
 */
#ifndef CORE_MM_HEAP_H
#define CORE_MM_HEAP_H

#include "hv/types.h"

#define HEAP_MIN_SHIFT 5   /* 32-byte blocks */
#define HEAP_MAX_SHIFT 11  /* 2048-byte blocks */
#define HEAP_NR_CLASSES (HEAP_MAX_SHIFT - HEAP_MIN_SHIFT + 1)
#define HEAP_HDR_SIZE 16
/* Sizes above this go to the page allocator. */
#define HEAP_MAX_SMALL ((1u << HEAP_MAX_SHIFT) - HEAP_HDR_SIZE)

struct heap_block; /* a free block, threaded through its payload */

struct heap {
	/* npages contiguous pages, page-aligned, or NULL. */
	void *(*get_pages)(void *ctx, u64 npages);
	void (*put_pages)(void *ctx, void *p, u64 npages);
	void *ctx;

	struct heap_block *free[HEAP_NR_CLASSES];
	u64 pages_carved; /* pages handed to the size classes */
	u64 live_blocks;  /* allocated and not yet freed */
};

/* A 16-byte-aligned block of size bytes, or NULL. */
void *heap_alloc(struct heap *h, size_t size);

/* Returns 0, or -EINVAL for a pointer the heap did not hand out or already
 * took back (then nothing changes). */
int heap_free(struct heap *h, void *p);

/* How many bytes the block at p can hold (at least what was asked for). */
size_t heap_block_size(const void *p);

#endif
