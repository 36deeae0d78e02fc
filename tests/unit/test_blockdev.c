/* The block-device registry and its range check (core/blockdev.c): a request
 * reaches its driver only inside its device or partition, with a partition's
 * sectors moved to the disk's. */
#include "unit.h"
#include "hv/blockdev.h"
#include <stdlib.h>
#include <string.h>

void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }

static struct blk_req *seen; /* what reached the driver last */

static int fake_submit(struct blockdev *bd, struct blk_req *r)
{
	seen = r;
	return 0;
}

static const struct blockdev_ops fake_ops = { .submit = fake_submit };
static struct blockdev disk = { .name = "disk0", .nr_sectors = 1000, .ops = &fake_ops };
static u8 buf[8 * BLK_SECTOR];

static int submit(struct blockdev *bd, enum blk_op op, u64 sector, u32 n)
{
	static struct blk_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.sector = sector;
	r.nr_sectors = n;
	if (op == BLK_READ || op == BLK_WRITE) {
		r.nr_segs = 1;
		r.seg[0].buf = buf;
		r.seg[0].len = n * BLK_SECTOR;
	}
	seen = NULL;
	return blockdev_submit(bd, &r);
}

TEST(registry_finds_by_name_and_refuses_duplicates)
{
	static struct blockdev dup = { .name = "disk0", .nr_sectors = 1, .ops = &fake_ops };

	CHECK_EQ(blockdev_register(&disk), 0);
	CHECK(blockdev_find("disk0") == &disk);
	CHECK(blockdev_find("disk1") == NULL);
	CHECK_EQ(blockdev_register(&dup), -EEXIST);
}

TEST(requests_stay_inside_the_device)
{
	CHECK_EQ(submit(&disk, BLK_READ, 992, 8), 0);
	CHECK(seen && seen->sector == 992);
	CHECK_EQ(submit(&disk, BLK_READ, 993, 8), -EINVAL);
	CHECK(seen == NULL);
	CHECK_EQ(submit(&disk, BLK_READ, 0, 0), -EINVAL);
	/* sector + count overflows 64 bits */
	CHECK_EQ(submit(&disk, BLK_WRITE, ~0ULL - 2, 8), -EINVAL);
	CHECK_EQ(submit(&disk, BLK_FLUSH, 0, 0), 0);
}

TEST(segments_must_add_up_to_the_length)
{
	static struct blk_req r = { .op = BLK_READ, .sector = 0, .nr_sectors = 2, .nr_segs = 1 };

	r.seg[0].buf = buf;
	r.seg[0].len = BLK_SECTOR; /* one sector of buffer for two */
	seen = NULL;
	CHECK_EQ(blockdev_submit(&disk, &r), -EINVAL);
	CHECK(seen == NULL);
	r.nr_segs = BLK_MAX_SEGS + 1;
	CHECK_EQ(blockdev_submit(&disk, &r), -EINVAL);
}

TEST(partitions_are_windows_on_the_disk)
{
	struct blockdev *p = blockdev_add_partition(&disk, "gpt:data", 100, 50);

	CHECK(p != NULL);
	CHECK(blockdev_find("gpt:data") == p);
	CHECK_EQ(submit(p, BLK_WRITE, 0, 8), 0);
	CHECK(seen && seen->sector == 100);
	CHECK_EQ(submit(p, BLK_WRITE, 42, 8), 0);
	CHECK(seen && seen->sector == 142);
	CHECK_EQ(submit(p, BLK_READ, 43, 8), -EINVAL); /* 143..150 crosses the end */
	CHECK(seen == NULL);
	CHECK(blockdev_add_partition(&disk, "gpt:big", 900, 101) == NULL);
	CHECK(blockdev_add_partition(&disk, "gpt:data", 0, 1) == NULL); /* the name is taken */
}

TEST(read_only_refuses_writes_and_discards)
{
	static struct blockdev ro = { .name = "ro0", .nr_sectors = 100, .read_only = true,
				      .ops = &fake_ops };

	CHECK_EQ(blockdev_register(&ro), 0);
	CHECK_EQ(submit(&ro, BLK_WRITE, 0, 1), -EROFS);
	CHECK_EQ(submit(&ro, BLK_DISCARD, 0, 1), -EROFS);
	CHECK_EQ(submit(&ro, BLK_READ, 0, 1), 0);
	CHECK(blockdev_add_partition(&ro, "gpt:ro", 0, 10)->read_only);
}

int main(void)
{
	RUN(registry_finds_by_name_and_refuses_duplicates);
	RUN(requests_stay_inside_the_device);
	RUN(segments_must_add_up_to_the_length);
	RUN(partitions_are_windows_on_the_disk);
	RUN(read_only_refuses_writes_and_discards);
	return unit_done();
}
