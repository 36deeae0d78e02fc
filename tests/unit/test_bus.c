#include "unit.h"
#include "hv/bus.h"

static u64 last_off, last_val;
static u8 last_size;

static int dev_read(void *dev, u64 off, u8 size, u64 *val)
{
	*val = (u64)(uintptr_t)dev + off;
	last_size = size;
	return 0;
}

static int dev_write(void *dev, u64 off, u8 size, u64 val)
{
	last_off = off;
	last_val = val;
	last_size = size;
	return 0;
}

static const struct io_ops ops = { .read = dev_read, .write = dev_write };

TEST(register_and_dispatch_offsets)
{
	struct bus b = { 0 };
	u64 v = 0;

	CHECK_EQ(bus_register(&b, 0x3f8, 8, "uart", &ops, (void *)0x1000), 0);
	CHECK_EQ(bus_register(&b, 0x70, 2, "rtc", &ops, (void *)0x2000), 0);
	CHECK_EQ(b.ranges[0].base, 0x70); /* kept sorted */
	CHECK_EQ(bus_read(&b, 0x3fd, 1, &v), 0);
	CHECK_EQ(v, 0x1005);              /* the device sees offset 5 */
	CHECK_EQ(bus_write(&b, 0x71, 1, 0xab), 0);
	CHECK_EQ(last_off, 1);
	CHECK_EQ(last_val, 0xab);
}

TEST(unclaimed_and_straddling_accesses)
{
	struct bus b = { 0 };
	u64 v;

	CHECK_EQ(bus_register(&b, 0x100, 4, "d", &ops, NULL), 0);
	CHECK_EQ(bus_read(&b, 0x104, 1, &v), -ENOENT);
	CHECK_EQ(bus_read(&b, 0xff, 1, &v), -ENOENT);
	CHECK_EQ(bus_read(&b, 0x102, 4, &v), -ENOENT); /* runs past the end */
	CHECK_EQ(bus_read(&b, 0x100, 4, &v), 0);
}

TEST(rejects_overlap_empty_wrap_and_full)
{
	struct bus b = { 0 };

	CHECK_EQ(bus_register(&b, 0x100, 0x10, "a", &ops, NULL), 0);
	CHECK_EQ(bus_register(&b, 0x10f, 1, "b", &ops, NULL), -EEXIST);
	CHECK_EQ(bus_register(&b, 0xf8, 9, "c", &ops, NULL), -EEXIST);
	CHECK_EQ(bus_register(&b, 0x200, 0, "d", &ops, NULL), -EINVAL);
	CHECK_EQ(bus_register(&b, ~0ULL, 2, "e", &ops, NULL), -EINVAL);
	for (unsigned i = 1; i < BUS_MAX_RANGES; i++)
		CHECK_EQ(bus_register(&b, 0x1000 + i * 4, 4, "f", &ops, NULL), 0);
	CHECK_EQ(bus_register(&b, 0x9000, 4, "g", &ops, NULL), -ENOSPC);
}

TEST(finds_every_range_among_many)
{
	struct bus b = { 0 };

	/* Registered out of order, with gaps: each address maps to its own range. */
	for (unsigned i = 0; i < 20; i++)
		CHECK_EQ(bus_register(&b, 0x1000 + ((i * 7) % 20) * 0x10, 8, "r", &ops,
				      (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < 20; i++) {
		u64 base = 0x1000 + ((i * 7) % 20) * 0x10;
		const struct bus_range *r = bus_find(&b, base + 7, 1);

		CHECK(r && r->base == base && r->dev == (void *)(uintptr_t)i);
		CHECK(bus_find(&b, base + 8, 1) == NULL); /* the gap after it */
		CHECK(bus_find(&b, base + 6, 4) == NULL); /* runs into the gap */
	}
	CHECK(bus_find(&b, 0xfff, 1) == NULL);
	CHECK(bus_find(&b, 0x2000, 1) == NULL);
}

int main(void)
{
	RUN(finds_every_range_among_many);
	RUN(register_and_dispatch_offsets);
	RUN(unclaimed_and_straddling_accesses);
	RUN(rejects_overlap_empty_wrap_and_full);
	return unit_done();
}
