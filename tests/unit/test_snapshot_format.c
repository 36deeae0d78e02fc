/*
 * The snapshot writer and reader: every getter round-trips, sections straddle
 * the 2 MiB chunks, over-reads set the sticky error, the writer's errors
 * (misuse, out of memory) free everything, and snap_verify's messages.
 */
#include "unit.h"
#include "hv/snapshot.h"

#include <string.h>
#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "snap_host_alloc.h"

static char err[SNAP_ERR_MAX];

static void begin_config(struct snap_writer *w)
{
	CHECK_EQ(snap_section_begin(w, SNAP_SEC_CONFIG, 0, "config"), 0);
	snap_put_u32(w, 0xc0f1);
	CHECK_EQ(snap_section_end(w), 0);
}

TEST(every_getter_round_trips)
{
	static const u8 blob[5] = { 1, 2, 3, 0xfe, 0xff };
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	u8 back[5];

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	begin_config(&w);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_DEVICE, 7, "uart8250"), 0);
	snap_put_u8(&w, 0xa5);
	snap_put_u16(&w, 0xbeef);
	snap_put_u32(&w, 0xdeadbeef);
	snap_put_u64(&w, 0x0123456789abcdefULL);
	snap_put_u64(&w, ~0ULL);
	snap_put_bool(&w, true);
	snap_put_bool(&w, false);
	snap_put_bytes(&w, blob, sizeof(blob));
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);

	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	CHECK_EQ(err[0], 0);
	/* Header 32, config section 40 + 4, device 40 + 1+2+4+8+8+1+1+5, end 40. */
	CHECK_EQ(s.len, 32 + 44 + 70 + 40);
	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 7, &c), 0);
	CHECK(strcmp(c.name, "uart8250") == 0);
	CHECK_EQ(c.index, 1);
	CHECK_EQ(snap_cursor_left(&c), 30);
	CHECK_EQ(snap_get_u8(&c), 0xa5);
	CHECK_EQ(snap_get_u16(&c), 0xbeef);
	CHECK_EQ(snap_get_u32(&c), 0xdeadbeef);
	CHECK_EQ(snap_get_u64(&c), 0x0123456789abcdefULL);
	CHECK_EQ(snap_get_u64(&c), ~0ULL);
	CHECK_EQ(snap_get_bool(&c), true);
	CHECK_EQ(snap_get_bool(&c), false);
	snap_get_bytes(&c, back, sizeof(back));
	CHECK(memcmp(back, blob, sizeof(blob)) == 0);
	CHECK(snap_cursor_done(&c));
	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 8, &c), -ENOENT);
	CHECK_EQ(snap_find_device(&s, 7, "uart8250", &c), 0);
	CHECK_EQ(snap_get_u8(&c), 0xa5);
	CHECK_EQ(snap_find_device(&s, 7, "pic8259", &c), -EINVAL);
	CHECK_EQ(snap_find_device(&s, 7, "uart825", &c), -EINVAL);
	CHECK_EQ(snap_find_device(&s, 6, "uart8250", &c), -ENOENT);
	CHECK_EQ(snap_find(&s, SNAP_SEC_END, 0, &c), -ENOENT);
	snap_free(&s);
	CHECK_EQ(host_stats.live, 0);
}

/* The bytes are little-endian whatever the host: check them in place. */
TEST(little_endian_on_the_wire)
{
	struct snap_writer w;
	struct snapshot s;
	u8 b[8];

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0x01020304, "config"), 0);
	snap_put_u32(&w, 0x11223344);
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_read_at(&s, 0, b, 8), 0);
	CHECK(memcmp(b, "UTSWSNAP", 8) == 0);
	CHECK_EQ(snap_read_at(&s, 8, b, 2), 0);
	CHECK(b[0] == SNAP_VERSION && b[1] == 0);
	CHECK_EQ(snap_read_at(&s, 32 + SNAP_SH_INSTANCE, b, 4), 0);
	CHECK(b[0] == 4 && b[1] == 3 && b[2] == 2 && b[3] == 1);
	CHECK_EQ(snap_read_at(&s, 32 + SNAP_SH_LENGTH, b, 8), 0);
	CHECK(b[0] == 4 && b[1] == 0 && b[7] == 0);
	CHECK_EQ(snap_read_at(&s, 32 + 40, b, 4), 0);
	CHECK(b[0] == 0x44 && b[3] == 0x11);
	CHECK_EQ(snap_read_at(&s, s.len - 1, b, 2), -ERANGE);
	snap_free(&s);
}

static u8 pattern(u64 i)
{
	return (u8)(i * 131 + (i >> 9) + 7);
}

/* Three sections straddle chunk boundaries: a 3 MiB one, a u64 split across
 * the next boundary, and the end section. Read back in 2 MiB chunks, and in
 * 4 KiB ones through snap_from_bytes. */
TEST(sections_across_chunk_boundaries)
{
	const u64 big = 3ULL << 20;
	struct snap_writer w;
	struct snapshot s, small;
	struct snap_cursor c;
	u8 *buf = malloc(big), *flat;
	u64 fill, pos;
	bool same = true;

	for (u64 i = 0; i < big; i++)
		buf[i] = pattern(i);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	begin_config(&w);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_MEMORY, 0, "mem"), 0);
	snap_put_bytes(&w, buf, big);
	CHECK_EQ(snap_section_end(&w), 0);
	/* Pad so the next u64 starts 3 bytes before the 4 MiB boundary. */
	pos = w.snap.len + SNAP_SECTION_HEADER_LEN;
	fill = (4ULL << 20) - 3 - pos;
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_MEMORY, 1, "mem"), 0);
	for (u64 i = 0; i < fill; i++)
		snap_put_u8(&w, 0);
	snap_put_u64(&w, 0x8877665544332211ULL);
	snap_put_u32(&w, 0xcafef00d);
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(s.nr_chunks, 3);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);

	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 0, &c), 0);
	CHECK_EQ(snap_cursor_left(&c), big);
	for (u64 i = 0; i < big && same; i++)
		same = snap_get_u8(&c) == pattern(i);
	CHECK(same);
	CHECK(snap_cursor_done(&c));
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 1, &c), 0);
	c.pos += fill;
	CHECK_EQ(c.pos, (4ULL << 20) - 3);
	CHECK_EQ(snap_get_u64(&c), 0x8877665544332211ULL);
	CHECK_EQ(snap_get_u32(&c), 0xcafef00d);
	CHECK(snap_cursor_done(&c));

	/* The same bytes in 4 KiB chunks verify and read the same. */
	flat = malloc(s.len);
	CHECK_EQ(snap_read_at(&s, 0, flat, s.len), 0);
	CHECK_EQ(snap_from_bytes(&small, &host_snap_alloc, flat, s.len, 12), 0);
	CHECK_EQ(small.nr_chunks, (s.len + 4095) / 4096);
	CHECK_EQ(snap_verify(&small, err, sizeof(err)), 0);
	CHECK_EQ(snap_find(&small, SNAP_SEC_MEMORY, 1, &c), 0);
	c.pos += fill;
	CHECK_EQ(snap_get_u64(&c), 0x8877665544332211ULL);
	snap_free(&small);
	/* A writer with 4 KiB chunks writes the same bytes. */
	{
		struct snap_writer w4;
		u8 *flat4 = malloc(s.len);

		CHECK_EQ(snap_writer_init_chunked(&w4, &host_snap_alloc, 12), 0);
		begin_config(&w4);
		CHECK_EQ(snap_section_begin(&w4, SNAP_SEC_MEMORY, 0, "mem"), 0);
		snap_put_bytes(&w4, buf, big);
		CHECK_EQ(snap_section_end(&w4), 0);
		CHECK_EQ(snap_section_begin(&w4, SNAP_SEC_MEMORY, 1, "mem"), 0);
		for (u64 i = 0; i < fill; i++)
			snap_put_u8(&w4, 0);
		snap_put_u64(&w4, 0x8877665544332211ULL);
		snap_put_u32(&w4, 0xcafef00d);
		CHECK_EQ(snap_section_end(&w4), 0);
		CHECK_EQ(snap_writer_finish(&w4, &small), 0);
		CHECK_EQ(small.chunk_shift, 12);
		CHECK_EQ(small.len, s.len);
		CHECK_EQ(snap_read_at(&small, 0, flat4, small.len), 0);
		CHECK(memcmp(flat4, flat, s.len) == 0);
		snap_free(&small);
		free(flat4);
		CHECK_EQ(snap_writer_init_chunked(&w4, &host_snap_alloc, 22), -EINVAL);
		snap_writer_abort(&w4);
	}
	CHECK_EQ(snap_from_bytes(&small, &host_snap_alloc, flat, s.len, 11), -EINVAL);
	CHECK_EQ(small.nr_chunks, 0);
	free(flat);
	snap_free(&s);
	free(buf);
	CHECK_EQ(host_stats.live, 0);
}

TEST(over_read_sets_sticky_error)
{
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	u8 b[4] = { 9, 9, 9, 9 };

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	begin_config(&w);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_DEVICE, 0, "dev"), 0);
	snap_put_u16(&w, 0x1234);
	snap_put_u8(&w, 2); /* not a bool */
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_DEVICE, 1, "next"), 0);
	snap_put_u32(&w, 0xffffffff); /* must not be read by an over-read of "dev" */
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);

	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 0, &c), 0);
	CHECK_EQ(snap_get_u16(&c), 0x1234);
	CHECK(snap_cursor_ok(&c));
	CHECK_EQ(snap_get_u32(&c), 0); /* 1 byte left: over-read */
	CHECK(!snap_cursor_ok(&c));
	CHECK_EQ(c.err, -EINVAL);
	CHECK_EQ(snap_get_u8(&c), 0);  /* sticky, though this byte exists */
	CHECK(!snap_cursor_done(&c));

	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 0, &c), 0);
	snap_get_u16(&c);
	CHECK_EQ(snap_get_bool(&c), false); /* 2 is no bool */
	CHECK(!snap_cursor_ok(&c));

	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 0, &c), 0);
	snap_get_bytes(&c, b, 4);
	CHECK(!snap_cursor_ok(&c));
	CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0);

	CHECK_EQ(snap_find(&s, SNAP_SEC_DEVICE, 0, &c), 0);
	snap_get_u16(&c);
	CHECK(!snap_cursor_done(&c)); /* a byte left: a loader would refuse */
	snap_cursor_fail(&c);
	CHECK(!snap_cursor_ok(&c));
	snap_free(&s);
}

TEST(iteration_in_order)
{
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	u32 seen = 0;

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	begin_config(&w);
	for (u32 i = 0; i < 5; i++) {
		CHECK_EQ(snap_section_begin(&w, SNAP_SEC_VCPU, i, "vcpu"), 0);
		snap_put_u32(&w, i * 10);
		CHECK_EQ(snap_section_end(&w), 0);
	}
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	CHECK_EQ(snap_first(&s, &c), 0);
	CHECK_EQ(c.type, SNAP_SEC_CONFIG);
	while (snap_next(&c) == 0) {
		CHECK_EQ(c.type, SNAP_SEC_VCPU);
		CHECK_EQ(c.instance, seen);
		CHECK_EQ(snap_get_u32(&c), seen * 10);
		seen++;
	}
	CHECK_EQ(seen, 5);
	snap_free(&s);
}

TEST(writer_misuse_is_refused_and_freed)
{
	struct snap_writer w;
	struct snapshot s;

	/* A put outside a section. */
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	snap_put_u32(&w, 1);
	CHECK_EQ(snap_writer_error(&w), -EINVAL);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "config"), -EINVAL);
	CHECK_EQ(snap_writer_finish(&w, &s), -EINVAL);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(host_stats.live, 0);

	/* Nested sections, a name too long, the end type, an open section at finish. */
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "0123456789abcdef"), -EINVAL);
	snap_writer_abort(&w);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_END, 0, "end"), -EINVAL);
	snap_writer_abort(&w);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "0123456789abcde"), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_DEVICE, 0, "x"), -EINVAL);
	snap_writer_abort(&w);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_end(&w), -EINVAL);
	snap_writer_abort(&w);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "config"), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), -EINVAL);
	CHECK_EQ(host_stats.live, 0);
	snap_free(&s); /* empty: harmless */
}

/* Out of memory at every allocation of a 5 MiB snapshot: -ENOMEM, nothing leaked. */
TEST(out_of_memory_at_each_allocation)
{
	static u8 mib[1 << 20];
	int failures = 0;

	for (long n = 0; n < 12; n++) {
		struct snap_writer w;
		struct snapshot s;
		int ret;

		host_stats.fail_after = n;
		ret = snap_writer_init(&w, &host_snap_alloc);
		if (!ret) {
			begin_config(&w);
			snap_section_begin(&w, SNAP_SEC_MEMORY, 0, "mem");
			for (int i = 0; i < 5; i++)
				snap_put_bytes(&w, mib, sizeof(mib));
			snap_section_end(&w);
			ret = snap_writer_finish(&w, &s);
		}
		if (ret) {
			CHECK_EQ(ret, -ENOMEM);
			failures++;
		} else {
			CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
			snap_free(&s);
		}
		CHECK_EQ(host_stats.live, 0);
	}
	host_stats.fail_after = -1;
	/* A table and 3 chunks: the first four allocations each fail it. */
	CHECK_EQ(failures, 4);
}

/* Rewrites the file header's CRC after a test changed a header field. */
static void fix_header_crc(u8 *flat)
{
	snap_st32(flat + SNAP_HDR_CRC, crc32(flat, SNAP_HDR_CRC));
}

static struct snapshot make_small(void)
{
	struct snap_writer w;
	struct snapshot s;

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	begin_config(&w);
	for (u32 i = 0; i < 3; i++) {
		char name[8] = "vcpu.0";

		name[5] = (char)('0' + i);
		CHECK_EQ(snap_section_begin(&w, SNAP_SEC_VCPU, i, name), 0);
		snap_put_u64(&w, i);
		CHECK_EQ(snap_section_end(&w), 0);
	}
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	return s;
}

/* Damages a flat copy with fn, and returns snap_verify's verdict on it. */
static int verify_damaged(const struct snapshot *good, u64 len, void (*fn)(u8 *flat))
{
	struct snapshot d;
	u8 *flat = calloc(1, good->len + 64);
	int ret;

	snap_read_at(good, 0, flat, good->len);
	if (fn)
		fn(flat);
	CHECK_EQ(snap_from_bytes(&d, &host_snap_alloc, flat, len, 12), 0);
	ret = snap_verify(&d, err, sizeof(err));
	snap_free(&d);
	free(flat);
	return ret;
}

static void flip_vcpu1_payload(u8 *f)
{
	f[32 + 44 + 48 + 40 + 3] ^= 0x10; /* section 2's payload */
}

static void bad_magic(u8 *f)
{
	f[0] = 'X';
}

static void newer_version(u8 *f)
{
	f[SNAP_HDR_VERSION] = SNAP_VERSION + 1;
	fix_header_crc(f);
}

static void swap_vcpu0_vcpu1(u8 *f)
{
	u8 tmp[48];
	u8 *a = f + 32 + 44, *b = a + 48;

	memcpy(tmp, a, 48);
	memcpy(a, b, 48);
	memcpy(b, tmp, 48);
}

static void fix_indices_after_swap(u8 *f)
{
	swap_vcpu0_vcpu1(f);
	/* Rewrite the index fields (and CRCs) so only the order is wrong. */
	for (int k = 0; k < 2; k++) {
		u8 *h = f + 32 + 44 + 48 * k;

		snap_st32(h + SNAP_SH_INDEX, 1 + k);
		snap_st32(h + SNAP_SH_CRC,
			  crc32_final(crc32_update(crc32_update(CRC32_INIT, h + 40, 8), h, 36)));
	}
}

TEST(verify_messages_name_the_section)
{
	struct snapshot s = make_small();

	CHECK_EQ(verify_damaged(&s, s.len, NULL), 0);
	CHECK_EQ(verify_damaged(&s, s.len, flip_vcpu1_payload), -EINVAL);
	CHECK(strcmp(err, "snapshot: section 2 'vcpu.1': checksum mismatch") == 0);
	CHECK_EQ(verify_damaged(&s, s.len, bad_magic), -EINVAL);
	CHECK(strcmp(err, "snapshot: header: bad magic: not a utsuwa snapshot") == 0);
	CHECK_EQ(verify_damaged(&s, s.len, newer_version), -EINVAL);
	CHECK(strcmp(err, "snapshot: header: version 3 is newer than this reader's 2") == 0);
	CHECK_EQ(verify_damaged(&s, s.len - 44, NULL), -EINVAL);
	CHECK(strstr(err, "snapshot: section 3 'vcpu.2': truncated") == err);
	CHECK_EQ(verify_damaged(&s, s.len + 5, NULL), -EINVAL);
	CHECK(strcmp(err, "snapshot: section 4 'end': followed by 5 stray bytes") == 0);
	CHECK_EQ(verify_damaged(&s, 10, NULL), -EINVAL);
	CHECK(strstr(err, "snapshot: header: truncated") == err);
	CHECK_EQ(verify_damaged(&s, s.len, swap_vcpu0_vcpu1), -EINVAL);
	CHECK(strcmp(err, "snapshot: section 1 'vcpu.1': out of place: it says it is section 2") == 0);
	CHECK_EQ(verify_damaged(&s, s.len, fix_indices_after_swap), -EINVAL);
	CHECK(strstr(err, "snapshot: section 2 'vcpu.0': out of order") == err);
	printf("  e.g. %s\n", err);
	snap_free(&s);
}

int main(void)
{
	RUN(every_getter_round_trips);
	RUN(little_endian_on_the_wire);
	RUN(sections_across_chunk_boundaries);
	RUN(over_read_sets_sticky_error);
	RUN(iteration_in_order);
	RUN(writer_misuse_is_refused_and_freed);
	RUN(out_of_memory_at_each_allocation);
	RUN(verify_messages_name_the_section);
	return unit_done();
}
