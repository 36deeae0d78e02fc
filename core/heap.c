/* kmalloc/kzalloc/kfree: core/mm_heap.c over page_alloc(), under a lock. */
#include "hv/mm.h"
#include "hv/console.h"
#include "hv/spinlock.h"
#include "core/mm_heap.h"
#include "asm/cpu.h"
#include "lib/string.h"

static void *heap_get_pages(void *ctx, u64 npages)
{
	return (void *)(uintptr_t)page_alloc(npages, PAGE_SIZE);
}

static void heap_put_pages(void *ctx, void *p, u64 npages)
{
	page_free((u64)(uintptr_t)p, npages);
}

static struct heap heap = { .get_pages = heap_get_pages, .put_pages = heap_put_pages };
static spinlock_t heap_lock = SPINLOCK_INIT;

void *kmalloc(size_t size)
{
	u64 flags = irq_save();
	void *p;

	spin_lock(&heap_lock);
	p = heap_alloc(&heap, size);
	spin_unlock(&heap_lock);
	irq_restore(flags);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	u64 flags = irq_save();
	int ret;

	spin_lock(&heap_lock);
	ret = heap_free(&heap, p);
	spin_unlock(&heap_lock);
	irq_restore(flags);
	if (ret)
		panic("kfree(%p): not a live heap block (freed twice, or never allocated)", p);
}

u64 kheap_live_blocks(void)
{
	return __atomic_load_n(&heap.live_blocks, __ATOMIC_RELAXED);
}

u64 kheap_pages_carved(void)
{
	return __atomic_load_n(&heap.pages_carved, __ATOMIC_RELAXED);
}
