#include "unit.h"
#include "hv/bus.h"
#include <pthread.h>

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
		struct bus_range r;

		CHECK(bus_lookup(&b, base + 7, 1, &r) && r.base == base &&
		      r.dev == (void *)(uintptr_t)i);
		CHECK(!bus_claims(&b, base + 8, 1)); /* the gap after it */
		CHECK(!bus_claims(&b, base + 6, 4)); /* runs into the gap */
	}
	CHECK(!bus_claims(&b, 0xfff, 1));
	CHECK(!bus_claims(&b, 0x2000, 1));
}

TEST(unregister_removes_only_that_range)
{
	struct bus b = { 0 };
	struct bus_range r;

	CHECK_EQ(bus_register(&b, 0x100, 8, "a", &ops, (void *)1), 0);
	CHECK_EQ(bus_register(&b, 0x200, 8, "b", &ops, (void *)2), 0);
	CHECK_EQ(bus_register(&b, 0x300, 8, "c", &ops, (void *)3), 0);
	CHECK_EQ(bus_unregister(&b, 0x200, (void *)1), -ENOENT); /* not its range */
	CHECK_EQ(bus_unregister(&b, 0x204, (void *)2), -ENOENT); /* not its base */
	CHECK_EQ(bus_unregister(&b, 0x200, (void *)2), 0);
	CHECK(!bus_claims(&b, 0x200, 1));
	CHECK(bus_lookup(&b, 0x100, 1, &r) && r.dev == (void *)1);
	CHECK(bus_lookup(&b, 0x307, 1, &r) && r.dev == (void *)3);
	CHECK_EQ(b.nr, 2u);
	/* A BAR that moves: out of the old place, into the new. */
	CHECK_EQ(bus_register(&b, 0x200, 8, "b", &ops, (void *)2), 0);
	CHECK_EQ(bus_unregister(&b, 0x200, (void *)2), 0);
	CHECK_EQ(bus_register(&b, 0x400, 8, "b", &ops, (void *)2), 0);
	CHECK(bus_lookup(&b, 0x404, 4, &r) && r.base == 0x400 && r.dev == (void *)2);
	CHECK_EQ(b.seq % 2, 0u);
}

/* One thread moves a range back and forth while another looks up a range
 * that never moves and the moving one: the fixed one is always found whole,
 * the moving one only ever where it was registered. */
static struct bus race_bus;
static volatile bool race_done, race_go;

static void *mover(void *arg)
{
	/* Until the reader is looking up (bounded: a test must not hang). */
	for (long spins = 0; !race_go && spins < 2000000000L; spins++)
		;
	for (int i = 0; i < 20000; i++) {
		u64 at = (i & 1) ? 0x5000 : 0x6000;

		bus_register(&race_bus, at, 0x10, "mv", &ops, (void *)0x77);
		bus_unregister(&race_bus, at, (void *)0x77);
	}
	race_done = true;
	return arg;
}

TEST(lookups_race_with_changes)
{
	pthread_t t;
	unsigned long bad = 0, lookups = 0;

	bus_init(&race_bus);
	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(bus_register(&race_bus, 0x1000 + i * 0x100, 0x10, "fix", &ops,
				      (void *)(uintptr_t)(i + 1)), 0);
	race_done = race_go = false;
	CHECK_EQ(pthread_create(&t, NULL, mover, NULL), 0);
	while (!race_done && lookups < 100000000ul) {
		race_go = true;
		struct bus_range r;
		unsigned i = lookups % 16;

		if (!bus_lookup(&race_bus, 0x1000 + i * 0x100 + 8, 4, &r) ||
		    r.dev != (void *)(uintptr_t)(i + 1) || r.base != 0x1000 + i * 0x100)
			bad++;
		if (bus_lookup(&race_bus, 0x5008, 1, &r) && (r.base != 0x5000 || r.dev != (void *)0x77))
			bad++;
		lookups++;
	}
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0ul);
	CHECK(lookups > 0);
}

int main(void)
{
	RUN(finds_every_range_among_many);
	RUN(unregister_removes_only_that_range);
	RUN(lookups_race_with_changes);
	RUN(register_and_dispatch_offsets);
	RUN(unclaimed_and_straddling_accesses);
	RUN(rejects_overlap_empty_wrap_and_full);
	return unit_done();
}
