/* Physical pages and the heap. Memory is identity-mapped: a physical address is a pointer. */
#ifndef HV_MM_H
#define HV_MM_H

#include "hv/bootinfo.h"
#include "hv/types.h"

/* Frees the usable RAM of the memory map above 1 MiB, minus the hypervisor
 * image, the boot modules and the loader's info block. */
void mm_init(const struct boot_info *bi);

/* npages contiguous zeroed pages aligned to align bytes (a power of two,
 * >= 4096); returns the physical address, or 0 when none. */
u64 page_alloc(u64 npages, u64 align);
void page_free(u64 pa, u64 npages);
u64 mm_free_pages(void);

void *kmalloc(size_t size);  /* 16-byte aligned; NULL when out of memory */
void *kzalloc(size_t size);
void kfree(void *p);
/* Heap blocks allocated and not freed: with mm_free_pages, what tells a leak. */
u64 kheap_live_blocks(void);
/* Pages the heap has cut into small blocks: taken once, kept for reuse (never
 * given back), so free pages that went there are not a leak. */
u64 kheap_pages_carved(void);

#endif
