/*
 * Where a VM's RAM lies (include/hv/gmem_layout.h): up to 3 GiB from 0, the
 * rest from 4 GiB up, nothing in the PCI hole; and the migration stream's
 * memory frames (core/migrate_stream.c) accept exactly the pieces of RAM.
 */
#include "unit.h"
#include <string.h>
#include "hv/gmem_layout.h"
#include "hv/migrate_stream.h"
#include "hv/snapshot.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

TEST(small_vms_have_one_range_from_0)
{
	struct gmem_layout l = gmem_layout_of(16 * MiB);

	CHECK_EQ(l.low, 16 * MiB);
	CHECK_EQ(l.high, 0);
	CHECK_EQ(gmem_layout_end(l), 16 * MiB);
	l = gmem_layout_of(3 * GiB); /* exactly up to the hole */
	CHECK_EQ(l.low, 0xc0000000ULL);
	CHECK_EQ(l.high, 0);
	CHECK_EQ(gmem_layout_end(l), 0xc0000000ULL);
}

TEST(big_vms_put_the_rest_above_4g)
{
	struct gmem_layout l = gmem_layout_of(3 * GiB + 2 * MiB);

	CHECK_EQ(l.low, 0xc0000000ULL);
	CHECK_EQ(l.high, 2 * MiB);
	CHECK_EQ(gmem_layout_end(l), 0x100200000ULL);
	l = gmem_layout_of(4 * GiB); /* the local APIC page at 0xfee00000 stays out of RAM */
	CHECK_EQ(l.low, 0xc0000000ULL);
	CHECK_EQ(l.high, 1 * GiB);
	CHECK_EQ(gmem_layout_end(l), 0x140000000ULL);
	CHECK_EQ(l.low + l.high, 4 * GiB);
	l = gmem_layout_of(64 * GiB);
	CHECK_EQ(gmem_layout_end(l), 0x1040000000ULL);
}

TEST(ram_after_stops_at_each_range_end)
{
	struct gmem_layout l = gmem_layout_of(4 * GiB);

	CHECK_EQ(gmem_layout_ram_after(l, 0), 0xc0000000ULL);
	CHECK_EQ(gmem_layout_ram_after(l, 0xbfe00000ULL), 2 * MiB);
	CHECK_EQ(gmem_layout_ram_after(l, 0xc0000000ULL), 0);
	CHECK_EQ(gmem_layout_ram_after(l, 0xfee00000ULL), 0);
	CHECK_EQ(gmem_layout_ram_after(l, 0xffffffffULL), 0);
	CHECK_EQ(gmem_layout_ram_after(l, 0x100000000ULL), 1 * GiB);
	CHECK_EQ(gmem_layout_ram_after(l, 0x13fe00000ULL), 2 * MiB);
	CHECK_EQ(gmem_layout_ram_after(l, 0x140000000ULL), 0);
	l = gmem_layout_of(16 * MiB);
	CHECK_EQ(gmem_layout_ram_after(l, 16 * MiB), 0);
	CHECK_EQ(gmem_layout_ram_after(l, 0x100000000ULL), 0);
}

/* A memory frame's payload: piece header (gpa, npages, 0, bitmap) and one page. */
static u64 frame(u8 *p, u64 gpa, u32 npages)
{
	u8 bm[SNAP_MEM_PIECE_PAGES / 8] = { 1 };

	mig_ram_put_hdr(p, gpa, npages, bm);
	memset(p + MIG_MEM_HDR, 0x5a, PAGE_SIZE);
	return MIG_MEM_HDR + PAGE_SIZE;
}

TEST(migration_takes_ram_pieces_and_refuses_the_hole)
{
	static u8 p[MIG_MEM_HDR + PAGE_SIZE];
	struct mig_ram r;
	u64 mem = 4 * GiB, len;

	len = frame(p, 0xbfe00000ULL, 512);
	CHECK_EQ(mig_ram_check(p, len, 0xbfe00000ULL >> 21, mem, &r), 0);
	len = frame(p, 0x100000000ULL, 512);
	CHECK_EQ(mig_ram_check(p, len, 0x100000000ULL >> 21, mem, &r), 0);
	CHECK_EQ(r.gpa, 0x100000000ULL);
	len = frame(p, 0x13fe00000ULL, 512); /* the last piece */
	CHECK_EQ(mig_ram_check(p, len, 0x13fe00000ULL >> 21, mem, &r), 0);
	len = frame(p, 0xc0000000ULL, 512); /* the hole */
	CHECK(mig_ram_check(p, len, 0xc0000000ULL >> 21, mem, &r) != 0);
	len = frame(p, 0xfee00000ULL, 512);
	CHECK(mig_ram_check(p, len, 0xfee00000ULL >> 21, mem, &r) != 0);
	len = frame(p, 0x140000000ULL, 512); /* past the end */
	CHECK(mig_ram_check(p, len, 0x140000000ULL >> 21, mem, &r) != 0);
	/* A VM of 3 GiB + 2 MiB: its one piece above 4 GiB. */
	len = frame(p, 0x100000000ULL, 512);
	CHECK_EQ(mig_ram_check(p, len, 0x100000000ULL >> 21, 3 * GiB + 2 * MiB, &r), 0);
	CHECK(mig_ram_check(p, len, 0x100000000ULL >> 21, 3 * GiB, &r) != 0);
}

int main(void)
{
	RUN(small_vms_have_one_range_from_0);
	RUN(big_vms_put_the_rest_above_4g);
	RUN(ram_after_stops_at_each_range_end);
	RUN(migration_takes_ram_pieces_and_refuses_the_hole);
	return unit_done();
}
