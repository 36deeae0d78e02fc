#include "unit.h"
#include "devices/testdev.h"

#include <string.h>
#include "hv/bus.h"
#include "hv/mm.h"

/* The heap, for the host. */
void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static struct bus mmio;

static struct testdev *setup(void)
{
	struct testdev *t = testdev_create();

	memset(&mmio, 0, sizeof(mmio));
	CHECK(t != NULL);
	CHECK_EQ(bus_register(&mmio, TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE, "testdev", &testdev_ops,
			      t),
		 0);
	return t;
}

static u64 rd(u64 off, u8 size)
{
	u64 v = 0xdeadbeefdeadbeefULL;

	CHECK_EQ(bus_read(&mmio, TESTDEV_MMIO_BASE + off, size, &v), 0);
	return v;
}

static void wr(u64 off, u8 size, u64 v)
{
	CHECK_EQ(bus_write(&mmio, TESTDEV_MMIO_BASE + off, size, v), 0);
}

TEST(initial_values)
{
	struct testdev *t = setup();

	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0);
	CHECK_EQ(rd(TESTDEV_ID_REG, 4), 0x57535455);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 0);
	testdev_destroy(t);
}

TEST(id_reads_utsw)
{
	struct testdev *t = setup();
	char id[5] = { 0 };
	u32 v = (u32)rd(TESTDEV_ID_REG, 4);

	memcpy(id, &v, 4); /* the host is little-endian, like the guest */
	CHECK(!strcmp(id, "UTSW"));
	CHECK_EQ(rd(TESTDEV_ID_REG, 1), 'U');
	CHECK_EQ(rd(TESTDEV_ID_REG + 1, 1), 'T');
	CHECK_EQ(rd(TESTDEV_ID_REG + 2, 1), 'S');
	CHECK_EQ(rd(TESTDEV_ID_REG + 3, 1), 'W');
	CHECK_EQ(rd(TESTDEV_ID_REG, 2), 0x5455);
	CHECK_EQ(rd(TESTDEV_ID_REG + 2, 2), 0x5753);
	CHECK_EQ(rd(TESTDEV_ID_REG, 8), 0x57535455); /* 0x14-0x17 read 0 */
	/* writes are ignored (but counted) */
	wr(TESTDEV_ID_REG, 4, 0);
	wr(TESTDEV_ID_REG + 1, 1, 0);
	CHECK_EQ(rd(TESTDEV_ID_REG, 4), 0x57535455);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 2);
	testdev_destroy(t);
}

TEST(scratch32_every_size)
{
	struct testdev *t = setup();

	wr(TESTDEV_SCRATCH32, 4, 0x11223344);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0x11223344);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 1), 0x44);
	CHECK_EQ(rd(TESTDEV_SCRATCH32 + 3, 1), 0x11);
	CHECK_EQ(rd(TESTDEV_SCRATCH32 + 2, 2), 0x1122);
	CHECK_EQ(rd(TESTDEV_SCRATCH32 + 1, 2), 0x2233); /* unaligned */
	wr(TESTDEV_SCRATCH32 + 1, 1, 0xaa);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0x1122aa44);
	wr(TESTDEV_SCRATCH32 + 2, 2, 0xbbcc);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0xbbccaa44);
	/* the high bits of a narrow write's value are not used */
	wr(TESTDEV_SCRATCH32, 1, 0xffffff01);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0xbbccaa01);
	/* 0x04-0x07 is a hole: an 8-byte access sees the scratch and zeros */
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 8), 0xbbccaa01);
	wr(TESTDEV_SCRATCH32, 8, 0x5555555566666666ULL);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0x66666666);
	CHECK_EQ(rd(4, 4), 0);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0); /* the neighbour is untouched */
	testdev_destroy(t);
}

TEST(scratch64_every_size)
{
	struct testdev *t = setup();

	wr(TESTDEV_SCRATCH64, 8, 0x0123456789abcdefULL);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0x0123456789abcdefULL);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 4), 0x89abcdef);
	CHECK_EQ(rd(TESTDEV_SCRATCH64 + 4, 4), 0x01234567);
	CHECK_EQ(rd(TESTDEV_SCRATCH64 + 6, 2), 0x0123);
	CHECK_EQ(rd(TESTDEV_SCRATCH64 + 7, 1), 0x01);
	/* 4-byte writes to either half */
	wr(TESTDEV_SCRATCH64, 4, 0xcafef00d);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0x01234567cafef00dULL);
	wr(TESTDEV_SCRATCH64 + 4, 4, 0xfeedface);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0xfeedfacecafef00dULL);
	wr(TESTDEV_SCRATCH64 + 3, 2, 0x1234); /* across the halves */
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0xfeedfa1234fef00dULL);
	wr(TESTDEV_SCRATCH64 + 7, 1, 0);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0x00edfa1234fef00dULL);
	/* an access from the end of scratch64 into the ID */
	CHECK_EQ(rd(TESTDEV_SCRATCH64 + 4, 8), 0x5753545500edfa12ULL);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0); /* the neighbour is untouched */
	testdev_destroy(t);
}

TEST(write_counter)
{
	struct testdev *t = setup();

	for (int i = 0; i < 5; i++)
		wr(TESTDEV_SCRATCH32, 4, (u64)i);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 5);
	wr(TESTDEV_SCRATCH64, 8, 1);
	wr(TESTDEV_SCRATCH64, 1, 1);
	wr(0x800, 2, 1);          /* an unused offset: ignored, still seen */
	wr(TESTDEV_WRITES, 4, 0); /* read-only: not reset */
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 9);
	CHECK_EQ(rd(TESTDEV_WRITES, 2), 9);
	CHECK_EQ(rd(TESTDEV_WRITES + 1, 1), 0);
	/* reads do not count */
	for (int i = 0; i < 3; i++)
		rd(TESTDEV_SCRATCH32, 4);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 9);
	testdev_destroy(t);
}

TEST(counter_wraps_at_32_bits)
{
	struct testdev *t = setup();

	t->writes = 0xfffffffe;
	wr(0, 1, 0);
	CHECK_EQ(rd(TESTDEV_WRITES, 8), 0xffffffff);
	wr(0, 1, 0);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 0);
	testdev_destroy(t);
}

TEST(other_offsets)
{
	struct testdev *t = setup();

	wr(0x20, 8, ~0ULL);
	wr(0xff8, 8, ~0ULL);
	wr(0x1c, 4, ~0ULL);
	/* Only the INTx# byte at 0x20 is there (unwired here: it drives nothing). */
	CHECK_EQ(rd(0x20, 8), 0xff);
	CHECK_EQ(rd(0x28, 8), 0);
	CHECK_EQ(rd(0xff8, 8), 0);
	CHECK_EQ(rd(0x1c, 4), 0);
	CHECK_EQ(rd(0xfff, 1), 0);
	CHECK_EQ(rd(TESTDEV_WRITES, 8), 3); /* 0x1c-0x1f above the counter read 0 */
	/* past the page, the bus refuses */
	u64 v;
	CHECK_EQ(bus_read(&mmio, TESTDEV_MMIO_BASE + 0xffc, 8, &v), -ENOENT);
	CHECK_EQ(bus_read(&mmio, TESTDEV_MMIO_BASE + 0x1000, 1, &v), -ENOENT);
	/* the device itself refuses accesses outside its page, even wrapping ones */
	wr(TESTDEV_SCRATCH32, 4, 0x12345678);
	CHECK_EQ(testdev_ops.read(t, 0x5000, 8, &v), -EINVAL);
	CHECK_EQ(testdev_ops.read(t, 0xffc, 8, &v), -EINVAL);
	CHECK_EQ(testdev_ops.read(t, ~0ULL - 2, 8, &v), -EINVAL);
	CHECK_EQ(testdev_ops.read(t, 0, 16, &v), -EINVAL);
	CHECK_EQ(testdev_ops.write(t, ~0ULL - 2, 8, 0), -EINVAL);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0x12345678);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 4); /* refused writes are not counted */
	testdev_destroy(t);
}

/* A reboot: every register back to 0, as created; the ID stays. */
TEST(reset)
{
	struct testdev *t = setup();

	wr(TESTDEV_SCRATCH32, 4, 0x12345678);
	wr(TESTDEV_SCRATCH64, 8, 0x0123456789abcdefULL);
	wr(0x100, 2, 0xffff);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 3);

	testdev_reset(t);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0);
	CHECK_EQ(rd(TESTDEV_SCRATCH64, 8), 0);
	CHECK_EQ(rd(TESTDEV_ID_REG, 4), TESTDEV_ID);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 0);
	wr(TESTDEV_SCRATCH32 + 1, 1, 0xaa);
	CHECK_EQ(rd(TESTDEV_SCRATCH32, 4), 0xaa00);
	CHECK_EQ(rd(TESTDEV_WRITES, 4), 1);
	testdev_destroy(t);
}

int main(void)
{
	RUN(initial_values);
	RUN(id_reads_utsw);
	RUN(scratch32_every_size);
	RUN(scratch64_every_size);
	RUN(write_counter);
	RUN(counter_wraps_at_32_bits);
	RUN(other_offsets);
	RUN(reset);
	return unit_done();
}
