/* snap_page_alloc over a fake page allocator: a 2 MiB chunk is 512 pages,
 * the chunk table whole pages, and each is freed with the count it got. */
#include "unit.h"
#include "hv/snapshot.h"

#include <string.h>
#include "hv/mm.h"

static u64 live_pages, calls, last_npages, last_align;

u64 page_alloc(u64 npages, u64 align)
{
	void *p = NULL;

	calls++;
	last_npages = npages;
	last_align = align;
	if (posix_memalign(&p, align, npages * PAGE_SIZE))
		return 0;
	memset(p, 0, npages * PAGE_SIZE);
	live_pages += npages;
	return (u64)(uintptr_t)p;
}

void page_free(u64 pa, u64 npages)
{
	live_pages -= npages;
	free((void *)(uintptr_t)pa);
}

TEST(chunks_are_512_pages_and_all_freed)
{
	struct snap_writer w;
	struct snapshot s;
	static u8 page[4096];

	CHECK_EQ(snap_writer_init(&w, &snap_page_alloc), 0);
	CHECK_EQ(calls, 2);        /* the chunk table, then the first chunk */
	CHECK_EQ(last_npages, 512);
	CHECK_EQ(last_align, PAGE_SIZE);
	CHECK_EQ(live_pages, 1 + 512);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "config"), 0);
	for (int i = 0; i < 600; i++) /* 2.3 MiB: a second chunk */
		snap_put_bytes(&w, page, sizeof(page));
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(s.nr_chunks, 2);
	CHECK_EQ(live_pages, 1 + 2 * 512);
	CHECK_EQ(snap_verify(&s, NULL, 0), 0);
	snap_free(&s);
	CHECK_EQ(live_pages, 0);
}

int main(void)
{
	RUN(chunks_are_512_pages_and_all_freed);
	return unit_done();
}
