#include "core/mm_heap.h"
#include "lib/string.h"

#define HDR_MAGIC_LIVE 0x6b6d616cu /* "lamk" */
#define HDR_MAGIC_FREE 0x6b656572u /* "reek" */
#define HDR_CLASS_LARGE 0xffu

/* Sits in front of every payload; its size keeps the payload 16-byte aligned. */
struct heap_hdr {
	u32 magic;
	u32 class; /* size class index, or HDR_CLASS_LARGE */
	u64 npages; /* a large block: pages it spans, header included */
};
_Static_assert(sizeof(struct heap_hdr) == HEAP_HDR_SIZE, "heap header keeps 16-byte alignment");

struct heap_block {
	struct heap_hdr hdr;
	struct heap_block *next; /* in the payload while free */
};

static struct heap_hdr *hdr_of(const void *p)
{
	return (struct heap_hdr *)((uintptr_t)p - HEAP_HDR_SIZE);
}

/* The smallest class whose blocks hold size bytes after the header. */
static unsigned class_of(size_t size)
{
	unsigned c = 0;

	while ((1u << (HEAP_MIN_SHIFT + c)) - HEAP_HDR_SIZE < size)
		c++;
	return c;
}

/* Cuts one fresh page into blocks of class c. */
static bool refill(struct heap *h, unsigned c)
{
	u8 *page = h->get_pages(h->ctx, 1);
	size_t bsize = 1u << (HEAP_MIN_SHIFT + c);

	if (!page)
		return false;
	h->pages_carved++;
	for (size_t off = PAGE_SIZE; off >= bsize; off -= bsize) {
		struct heap_block *b = (struct heap_block *)(page + off - bsize);

		b->hdr.magic = HDR_MAGIC_FREE;
		b->hdr.class = c;
		b->hdr.npages = 0;
		b->next = h->free[c];
		h->free[c] = b;
	}
	return true;
}

static void *alloc_large(struct heap *h, size_t size)
{
	u64 npages = ((u64)size + HEAP_HDR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
	struct heap_hdr *hdr = h->get_pages(h->ctx, npages);

	if (!hdr)
		return NULL;
	hdr->magic = HDR_MAGIC_LIVE;
	hdr->class = HDR_CLASS_LARGE;
	hdr->npages = npages;
	h->live_blocks++;
	return hdr + 1;
}

void *heap_alloc(struct heap *h, size_t size)
{
	unsigned c;
	struct heap_block *b;

	/* Far beyond any memory we could have: refuse before the page count overflows. */
	if (size > (1ULL << 48))
		return NULL;
	if (size > HEAP_MAX_SMALL)
		return alloc_large(h, size);
	c = class_of(size);
	if (!h->free[c] && !refill(h, c))
		return NULL;
	b = h->free[c];
	h->free[c] = b->next;
	b->hdr.magic = HDR_MAGIC_LIVE;
	b->next = NULL;
	h->live_blocks++;
	return &b->hdr + 1;
}

int heap_free(struct heap *h, void *p)
{
	struct heap_hdr *hdr;

	if (!p)
		return 0;
	if ((uintptr_t)p % 16)
		return -EINVAL;
	hdr = hdr_of(p);
	if (hdr->magic != HDR_MAGIC_LIVE)
		return -EINVAL; /* not ours, or freed twice */
	if (hdr->class == HDR_CLASS_LARGE) {
		if ((uintptr_t)hdr % PAGE_SIZE || hdr->npages == 0)
			return -EINVAL;
		hdr->magic = HDR_MAGIC_FREE;
		h->put_pages(h->ctx, hdr, hdr->npages);
	} else {
		struct heap_block *b = (struct heap_block *)hdr;

		if (hdr->class >= HEAP_NR_CLASSES)
			return -EINVAL;
		hdr->magic = HDR_MAGIC_FREE;
		b->next = h->free[hdr->class];
		h->free[hdr->class] = b;
	}
	h->live_blocks--;
	return 0;
}

size_t heap_block_size(const void *p)
{
	const struct heap_hdr *hdr = hdr_of(p);

	if (hdr->class == HDR_CLASS_LARGE)
		return hdr->npages * PAGE_SIZE - HEAP_HDR_SIZE;
	return (1u << (HEAP_MIN_SHIFT + hdr->class)) - HEAP_HDR_SIZE;
}
