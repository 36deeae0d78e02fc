/*
 * 3,000 damaged snapshots, all refused by snap_verify with one line that
 * names the part at fault, the input left as it was: random bit flips,
 * truncation at every length class, wrong lengths (with and without a
 * matching CRC), swapped, dropped and duplicated sections, trailing bytes,
 * bad magic, version, header length, flags and section count.
 */
#include "unit.h"
#include "hv/snapshot.h"

#include <string.h>
#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "snap_host_alloc.h"

#define MAX_SECTIONS 32

/* The good snapshot, flat, and where each section lies in it. */
static u8 *good;
static u64 good_len;
static unsigned nr_sections;         /* the end section included */
static u64 sec_start[MAX_SECTIONS];  /* header offset */
static u64 sec_end[MAX_SECTIONS];    /* one past the payload */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static u64 rnd_below(u64 n)
{
	return rnd() % n;
}

static void add_section(struct snap_writer *w, u32 type, u32 instance, const char *name,
			u32 len)
{
	sec_start[nr_sections] = w->snap.len;
	CHECK_EQ(snap_section_begin(w, type, instance, name), 0);
	for (u32 i = 0; i < len; i++)
		snap_put_u8(w, (u8)rnd());
	CHECK_EQ(snap_section_end(w), 0);
	sec_end[nr_sections] = w->snap.len;
	nr_sections++;
}

static void build_good(void)
{
	static const char *const devices[] = { "uart8250", "pic8259", "pit8254", "rtc_cmos",
					       "pci_host", "acpi_pm", "vioapic", "apic_bus",
					       "testdev" };
	struct snap_writer w;
	struct snapshot s;

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	add_section(&w, SNAP_SEC_CONFIG, 0, "config", 120);
	add_section(&w, SNAP_SEC_MEMORY, 0, "ram", 3000);
	add_section(&w, SNAP_SEC_MEMORY, 1, "ram", 9000);
	add_section(&w, SNAP_SEC_MEMORY, 3, "ram", 5000);
	add_section(&w, SNAP_SEC_VCPU, 0, "vcpu.0", 700);
	add_section(&w, SNAP_SEC_VCPU, 1, "vcpu.1", 700);
	for (u32 i = 0; i < ARRAY_SIZE(devices); i++)
		add_section(&w, SNAP_SEC_DEVICE, i, devices[i], 20 + 37 * i);
	add_section(&w, SNAP_SEC_DEVICE, 9, "empty", 0);
	sec_start[nr_sections] = w.snap.len;
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	sec_end[nr_sections] = s.len;
	nr_sections++;
	good_len = s.len;
	good = malloc(good_len);
	CHECK_EQ(snap_read_at(&s, 0, good, good_len), 0);
	CHECK_EQ(snap_verify(&s, NULL, 0), 0);
	snap_free(&s);
}

/* The section holding byte off (-1: the file header). */
static int section_of(u64 off)
{
	if (off < SNAP_HEADER_LEN)
		return -1;
	for (unsigned i = 0; i < nr_sections; i++)
		if (off < sec_end[i])
			return (int)i;
	return (int)nr_sections - 1;
}

static int refused, wrongly_accepted, unnamed;
static char err[SNAP_ERR_MAX];

/* Does err name the header (k == -1) or section k? */
static bool names(int k)
{
	char want[40];

	if (k < 0)
		return strncmp(err, "snapshot: header: ", 18) == 0;
	snprintf(want, sizeof(want), "snapshot: section %d", k);
	return strncmp(err, want, strlen(want)) == 0 &&
	       (err[strlen(want)] == ' ' || err[strlen(want)] == ':');
}

/*
 * Verifies buf[0..len) in chunks of 4 KiB, or 2 MiB every fourth time; it must
 * be refused, naming one of the parts in want[0..nwant) (-1: the header),
 * and the snapshot must not change.
 */
static void expect_refused(const u8 *buf, u64 len, const int *want, int nwant)
{
	static int turn;
	struct snapshot s;
	u8 *after = malloc(len + 1);
	bool named = false;

	CHECK_EQ(snap_from_bytes(&s, &host_snap_alloc, buf, len, turn++ % 4 ? 12 : SNAP_CHUNK_SHIFT),
		 0);
	memset(err, 'x', sizeof(err));
	if (snap_verify(&s, err, sizeof(err)) != -EINVAL) {
		wrongly_accepted++;
		fprintf(stderr, "accepted a damaged snapshot of %llu bytes\n",
			(unsigned long long)len);
	} else {
		refused++;
	}
	CHECK(memchr(err, '\0', sizeof(err)) != NULL && !strchr(err, '\n'));
	for (int i = 0; i < nwant; i++)
		named |= names(want[i]);
	if (!named) {
		unnamed++;
		fprintf(stderr, "message names the wrong part (want %d): %s\n", want[0], err);
	}
	CHECK_EQ(snap_read_at(&s, 0, after, len), 0);
	CHECK(memcmp(after, buf, len) == 0);
	snap_free(&s);
	free(after);
}

static u8 *copy_good(u64 extra)
{
	u8 *b = malloc(good_len + extra);

	memcpy(b, good, good_len);
	return b;
}

static void fix_header_crc(u8 *b)
{
	snap_st32(b + SNAP_HDR_CRC, crc32(b, SNAP_HDR_CRC));
}

/* Rewrites the CRC of the section whose header is at off. */
static void fix_section_crc(u8 *b, u64 off)
{
	u64 len = snap_le64(b + off + SNAP_SH_LENGTH);
	u32 st = crc32_update(CRC32_INIT, b + off + SNAP_SECTION_HEADER_LEN, len);

	snap_st32(b + off + SNAP_SH_CRC, crc32_final(crc32_update(st, b + off, SNAP_SH_CRC)));
}

static int cases;

/* 1,000: one to eight random bits flipped anywhere. */
static void bit_flips(void)
{
	for (int n = 0; n < 1000; n++, cases++) {
		u8 *b = copy_good(0);
		int flips = 1 + (int)rnd_below(8), want;
		u64 first = good_len;

		for (int i = 0; i < flips; i++) {
			u64 at = rnd_below(good_len);

			b[at] ^= (u8)(1u << rnd_below(8));
			first = MIN(first, at);
		}
		if (!memcmp(b, good, good_len)) { /* two flips undid each other */
			b[first] ^= 1;
		}
		for (first = 0; b[first] == good[first]; first++)
			;
		want = section_of(first);
		expect_refused(b, good_len, &want, 1);
		free(b);
	}
}

/* 500: every length class: empty, inside the file header, at and around
 * every section boundary, inside each header and payload, one short. */
static void truncations(void)
{
	u64 lens[600];
	int n = 0;

	lens[n++] = 0;
	lens[n++] = 1;
	lens[n++] = SNAP_HEADER_LEN - 1;
	lens[n++] = SNAP_HEADER_LEN;
	lens[n++] = good_len - 1;
	for (unsigned i = 0; i < nr_sections; i++) {
		u64 h = sec_start[i], p = h + SNAP_SECTION_HEADER_LEN;

		lens[n++] = h + 1;
		lens[n++] = h + SNAP_SH_LENGTH + 3;
		lens[n++] = p - 1;
		if (i)
			lens[n++] = h; /* exactly the sections before it */
		if (sec_end[i] > p) {
			lens[n++] = p;
			lens[n++] = p + (sec_end[i] - p) / 2;
			lens[n++] = sec_end[i] - 1;
		}
	}
	while (n < 500)
		lens[n++] = rnd_below(good_len);
	for (int i = 0; i < 500; i++, cases++) {
		/* A cut inside the header names it; else the section the cut falls in. */
		int want = lens[i] < SNAP_HEADER_LEN ? -1 : section_of(lens[i]);

		expect_refused(good, lens[i], &want, 1);
	}
}

/* 400: a section's length wrong; half of them with a CRC to match, so only
 * the walk's bounds and the next section's header give it away. */
static void wrong_lengths(void)
{
	for (int n = 0; n < 400; n++, cases++) {
		u8 *b = copy_good(0);
		unsigned k = (unsigned)rnd_below(nr_sections);
		u64 off = sec_start[k] + SNAP_SH_LENGTH, len = snap_le64(b + off), bad;
		int want[2] = { (int)k, (int)k + 1 };

		switch (n % 5) {
		case 0: bad = len + 1; break;
		case 1: bad = len ? len - 1 : 1; break;
		case 2: bad = len + 1 + rnd_below(4096); break;
		case 3: bad = rnd(); break;
		default: bad = len ^ (1ULL << rnd_below(64)); break;
		}
		if (bad == len)
			bad++;
		snap_st64(b + off, bad);
		/* A CRC to match, where the new length stays inside the snapshot. */
		if (n % 2 && bad <= good_len - sec_start[k] - SNAP_SECTION_HEADER_LEN)
			fix_section_crc(b, sec_start[k]);
		expect_refused(b, good_len, want, 2);
		free(b);
	}
}

/* 300: two sections swapped; in half, their index fields and CRCs rewritten
 * so only the order is wrong. */
static void swaps(void)
{
	u8 *tmp = malloc(good_len);

	for (int n = 0; n < 300; n++, cases++) {
		u8 *b = copy_good(0);
		unsigned i = (unsigned)rnd_below(nr_sections - 1), j;
		u64 a0, a1, b0, b1, la, lb, mid;
		int want[2];

		do
			j = (unsigned)rnd_below(nr_sections);
		while (j == i);
		if (j < i) {
			unsigned t = i;

			i = j;
			j = t;
		}
		a0 = sec_start[i], a1 = sec_end[i], b0 = sec_start[j], b1 = sec_end[j];
		la = a1 - a0, lb = b1 - b0, mid = b0 - a1;
		/* [a][mid][b] becomes [b][mid][a]. */
		memcpy(tmp, good + b0, lb);
		memcpy(tmp + lb, good + a1, mid);
		memcpy(tmp + lb + mid, good + a0, la);
		memcpy(b + a0, tmp, lb + mid + la);
		if (n % 2) {
			u64 at[2] = { a0, a0 + lb + mid };
			u32 idx[2] = { i, j };

			for (int k = 0; k < 2; k++) {
				snap_st32(b + at[k] + SNAP_SH_INDEX, idx[k]);
				fix_section_crc(b, at[k]);
			}
		}
		/* The first out-of-place section is at position i; with the
		 * indices rewritten, order is first wrong at i or just after it,
		 * or at j (the end section moved). */
		want[0] = (int)i;
		want[1] = (int)i + 1;
		if (j == nr_sections - 1 || n % 2) {
			int w3[4] = { (int)i, (int)i + 1, (int)j, (int)j + 1 };

			expect_refused(b, good_len, w3, 4);
		} else {
			expect_refused(b, good_len, want, 2);
		}
		free(b);
	}
	free(tmp);
}

/* 300: the file header: magic, version, header length, flags, count and
 * total length, with and without the header CRC rewritten. */
static void header_damage(void)
{
	for (int n = 0; n < 300; n++, cases++) {
		u8 *b = copy_good(0);
		int want = -1;

		switch (n % 6) {
		case 0: b[rnd_below(8)] ^= (u8)(1 + rnd_below(255)); break;
		case 1: snap_st16(b + SNAP_HDR_VERSION, (u16)(n % 2 ? 0 : 2 + rnd_below(60000))); break;
		case 2: snap_st16(b + SNAP_HDR_HDRLEN, (u16)(SNAP_HEADER_LEN + 1 + rnd_below(100))); break;
		case 3: snap_st32(b + SNAP_HDR_FLAGS, 1u << rnd_below(32)); break;
		case 4: snap_st32(b + SNAP_HDR_COUNT, (u32)(n % 4 == 0 ? 0 : nr_sections + 1 + rnd_below(5))); break;
		default: snap_st64(b + SNAP_HDR_TOTAL, good_len + 1 + rnd_below(1000)); break;
		}
		if ((n / 6) % 2)
			fix_header_crc(b);
		if ((n / 6) % 2 && n % 6 == 4 && snap_le32(b + SNAP_HDR_COUNT) > 1) {
			/* A count past the real one: the end section is found early. */
			int w[2] = { (int)nr_sections - 1, (int)nr_sections };

			expect_refused(b, good_len, w, 2);
		} else {
			expect_refused(b, good_len, &want, 1);
		}
		free(b);
	}
}

/* 500: sections dropped or duplicated (header count kept), bytes appended
 * or inserted, a section's name, index or type changed under a good CRC. */
static void structural(void)
{
	for (int n = 0; n < 500; n++, cases++) {
		u8 *b = malloc(2 * good_len + 64);
		unsigned k = 1 + (unsigned)rnd_below(nr_sections - 2); /* not config, not end */
		u64 len = good_len, at = sec_start[k], sz = sec_end[k] - sec_start[k];
		int want[2] = { (int)k, (int)k + 1 };

		memcpy(b, good, good_len);
		switch (n % 5) {
		case 0: /* dropped */
			memmove(b + at, b + at + sz, good_len - at - sz);
			len -= sz;
			break;
		case 1: /* duplicated */
			memmove(b + at + sz, b + at, good_len - at);
			len += sz;
			want[0] = (int)k + 1;
			break;
		case 2: { /* bytes appended after the end section */
			u64 extra = 1 + rnd_below(64);

			memset(b + good_len, (int)rnd(), extra);
			len += extra;
			want[0] = want[1] = (int)nr_sections - 1;
			break;
		}
		case 3: { /* garbage inserted between sections */
			u64 extra = 1 + rnd_below(64);

			memmove(b + at + extra, b + at, good_len - at);
			memset(b + at, (int)rnd(), extra);
			len += extra;
			break;
		}
		default: { /* name, index or type changed, CRC rewritten */
			switch (rnd_below(3)) {
			case 0: b[at + SNAP_SH_NAME] = (u8)(n % 2 ? 0 : 0x07); break;
			case 1: snap_st32(b + at + SNAP_SH_INDEX, k + 1 + (u32)rnd_below(9)); break;
			default: snap_st32(b + at + SNAP_SH_TYPE, n % 2 ? SNAP_SEC_END : SNAP_SEC_CONFIG); break;
			}
			fix_section_crc(b, at);
			break;
		}
		}
		expect_refused(b, len, want, 2);
		free(b);
	}
}

TEST(three_thousand_damaged_snapshots)
{
	build_good();
	bit_flips();
	truncations();
	wrong_lengths();
	swaps();
	header_damage();
	structural();
	CHECK_EQ(cases, 3000);
	CHECK_EQ(refused, 3000);
	CHECK_EQ(wrongly_accepted, 0);
	CHECK_EQ(unnamed, 0);
	printf("  %d damaged snapshots: %d refused naming the part at fault, %d accepted\n", cases,
	       refused - unnamed, wrongly_accepted);
	free(good);
	CHECK_EQ(host_stats.live, 0);
}

int main(void)
{
	RUN(three_thousand_damaged_snapshots);
	return unit_done();
}
