/*
 * The migration stream (core/migrate_stream.c): frames sealed and parsed
 * back whole, a byte at a time and at every split; every single-byte
 * corruption, every truncation, reordered, dropped, replayed and reflected
 * frames, another key and another session all refused with a message saying
 * which; the offer, answer and memory payloads and their checks.
 */
#include "unit.h"
#include "hv/migrate_stream.h"

#include <string.h>

#define KEY "0123456789abcdef-shared-key"

static u8 stream[8 * MIG_FRAME_MAX];
static u64 stream_len;
static u64 frame_off[16];
static unsigned nr_frames;
static u8 payload_buf[MIG_MAX_PAYLOAD];

static void add_frame(const struct mig_keys *k, u8 label, u32 type, u32 inst, const char *name,
		      const void *payload, u64 len)
{
	frame_off[nr_frames] = stream_len;
	if (len)
		memcpy(stream + stream_len + MIG_HDR_LEN, payload, len);
	stream_len += mig_seal(k, label, stream + stream_len, type, inst, nr_frames, name, len);
	nr_frames++;
	frame_off[nr_frames] = stream_len;
}

/* Four frames a source might send: an offer, a memory frame, a device,
 * the end. */
static void make_stream(const struct mig_keys *k)
{
	static u8 ram[MIG_MEM_HDR + 3 * PAGE_SIZE];
	struct mig_offer o = { .downtime_ms = 50 };
	u8 bm[64] = { 0x0b }; /* pages 0, 1, 3 */
	u8 off[MIG_OFFER_LEN];

	stream_len = 0;
	nr_frames = 0;
	memset(o.nonce, 0x11, sizeof(o.nonce));
	for (int i = 0; i < MIG_NR_FEATURES; i++)
		o.features[i] = 0x1000u + (u32)i;
	mig_offer_put(off, &o);
	add_frame(k, 'S', MIG_OFFER, 0, "offer", off, sizeof(off));
	mig_ram_put_hdr(ram, 2ULL << 21, 512, bm);
	for (u64 i = 0; i < 3 * PAGE_SIZE; i++)
		ram[MIG_MEM_HDR + i] = (u8)(i * 13);
	add_frame(k, 'S', SNAP_SEC_MEMORY, 2, "ram", ram, sizeof(ram));
	add_frame(k, 'S', SNAP_SEC_DEVICE, 3, "uart", "\x01\x00\x05", 3);
	add_frame(k, 'S', SNAP_SEC_END, 0, "end", NULL, 0);
}

/* Feeds the stream in pieces of step bytes; counts frames; returns the
 * result of the last feed. */
static enum mig_rx_result feed_all(struct mig_rx *rx, const u8 *s, u64 len, u64 step,
				   unsigned *frames)
{
	enum mig_rx_result r = MIG_RX_MORE;
	u64 pos = 0;

	*frames = 0;
	while (pos < len) {
		u64 used, n = MIN(step, len - pos);

		r = mig_rx_feed(rx, s + pos, n, &used);
		if (r == MIG_RX_ERROR)
			return r;
		CHECK(used <= n);
		if (r == MIG_RX_FRAME)
			(*frames)++;
		else
			CHECK(used == n);
		pos += used;
	}
	return r;
}

TEST(round_trip_every_split)
{
	struct mig_keys k;
	static const u64 steps[] = { 1, 2, 3, 7, 40, 41, 72, 100, 4096, 1 << 20 };

	mig_keys_init(&k, KEY, strlen(KEY));
	make_stream(&k);
	for (unsigned i = 0; i < ARRAY_SIZE(steps); i++) {
		struct mig_rx rx;
		unsigned frames;

		mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
		CHECK(feed_all(&rx, stream, stream_len, steps[i], &frames) == MIG_RX_FRAME);
		CHECK_EQ(frames, 4);
		CHECK_EQ(rx.type, SNAP_SEC_END);
		CHECK(mig_rx_eof(&rx));
	}
}

TEST(frame_fields)
{
	struct mig_keys k;
	struct mig_rx rx;
	struct mig_offer o;
	struct mig_ram r;
	u64 used, pos = 0;

	mig_keys_init(&k, KEY, strlen(KEY));
	make_stream(&k);
	mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
	CHECK(mig_rx_feed(&rx, stream, stream_len, &used) == MIG_RX_FRAME);
	CHECK_EQ(used, frame_off[1]);
	CHECK_EQ(rx.type, MIG_OFFER);
	CHECK(strcmp(rx.name, "offer") == 0);
	CHECK(mig_offer_get(rx.payload, rx.len, &o) == 0);
	CHECK_EQ(o.downtime_ms, 50);
	CHECK_EQ(o.features[6], 0x1006);
	CHECK_EQ(o.nonce[15], 0x11);
	pos = used;
	CHECK(mig_rx_feed(&rx, stream + pos, stream_len - pos, &used) == MIG_RX_FRAME);
	CHECK_EQ(rx.type, SNAP_SEC_MEMORY);
	CHECK_EQ(rx.instance, 2);
	CHECK(mig_ram_check(rx.payload, rx.len, rx.instance, 16ULL << 20, &r) == 0);
	CHECK_EQ(r.present, 3);
	CHECK_EQ(r.gpa, 4ULL << 20);
	CHECK_EQ(rx.payload[MIG_MEM_HDR + 5], 65);
	pos += used;
	CHECK(mig_rx_feed(&rx, stream + pos, stream_len - pos, &used) == MIG_RX_FRAME);
	CHECK_EQ(rx.type, SNAP_SEC_DEVICE);
	CHECK(strcmp(rx.name, "uart") == 0);
	CHECK_EQ(rx.len, 3);
}

/* Every byte of the stream flipped: never a frame with other contents,
 * always a refusal naming what went wrong. */
TEST(every_byte_corrupted)
{
	struct mig_keys k;
	static u8 bad[sizeof(stream)];

	mig_keys_init(&k, KEY, strlen(KEY));
	make_stream(&k);
	for (u64 at = 0; at < stream_len; at += (at > 200 && at < frame_off[2] - 100) ? 97 : 1) {
		struct mig_rx rx;
		unsigned frames, before = 0;
		enum mig_rx_result r;

		memcpy(bad, stream, stream_len);
		bad[at] ^= 0x20;
		while (frame_off[before + 1] <= at)
			before++;
		mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
		r = feed_all(&rx, bad, stream_len, 1000, &frames);
		if (r != MIG_RX_ERROR) {
			/* A length made smaller and still in bounds: the stream
			 * then ends inside a frame. */
			CHECK(!mig_rx_eof(&rx));
		}
		CHECK(rx.dead);
		CHECK_EQ(frames, before);
		CHECK(strstr(rx.err, "checksum") || strstr(rx.err, "MAC") ||
		      strstr(rx.err, "sequence") || strstr(rx.err, "type") ||
		      strstr(rx.err, "length") || strstr(rx.err, "name") ||
		      strstr(rx.err, "truncated"));
		/* The MAC's own bytes: the CRC holds, the MAC does not. */
		if (at >= frame_off[before + 1] - MIG_MAC_LEN)
			CHECK(strstr(rx.err, "MAC mismatch") != NULL);
		/* A payload byte: the CRC says corrupt. */
		if (at >= frame_off[before] + MIG_HDR_LEN && at < frame_off[before + 1] - MIG_MAC_LEN)
			CHECK(strstr(rx.err, "checksum mismatch") != NULL);
	}
}

TEST(every_truncation)
{
	struct mig_keys k;

	mig_keys_init(&k, KEY, strlen(KEY));
	make_stream(&k);
	for (u64 cut = 0; cut < stream_len; cut += cut > 300 && cut < frame_off[2] - 300 ? 211 : 1) {
		struct mig_rx rx;
		unsigned frames, i;
		bool boundary = false;

		for (i = 0; i <= nr_frames; i++)
			boundary |= frame_off[i] == cut;
		mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
		feed_all(&rx, stream, cut, 333, &frames);
		CHECK(mig_rx_eof(&rx) == boundary);
		if (!boundary)
			CHECK(strstr(rx.err, "truncated") != NULL);
	}
}

static void expect_refused(const struct mig_keys *rk, u8 label, const u8 *s, u64 len,
			   const char *what, unsigned frames_first)
{
	struct mig_rx rx;
	unsigned frames;

	mig_rx_init(&rx, rk, label, payload_buf, sizeof(payload_buf));
	CHECK(feed_all(&rx, s, len, 4096, &frames) == MIG_RX_ERROR);
	CHECK_EQ(frames, frames_first);
	if (!strstr(rx.err, what)) {
		fprintf(stderr, "  got: %s\n  want: %s\n", rx.err, what);
		CHECK(0);
	}
}

TEST(wrong_key_session_label)
{
	struct mig_keys k, other;

	mig_keys_init(&k, KEY, strlen(KEY));
	mig_keys_init(&other, KEY "x", strlen(KEY) + 1);
	make_stream(&k);
	expect_refused(&other, 'S', stream, stream_len, "frame 0 (offer 'offer'): MAC mismatch", 0);
	/* A frame reflected back as if from the other side. */
	expect_refused(&k, 'D', stream, stream_len, "MAC mismatch", 0);
	/* The same key, another migration's session. */
	other = k;
	other.session[31] ^= 1;
	expect_refused(&other, 'S', stream, stream_len, "MAC mismatch", 0);
}

TEST(reordered_dropped_replayed)
{
	struct mig_keys k;
	static u8 s2[sizeof(stream)];
	u64 n = 0;

	mig_keys_init(&k, KEY, strlen(KEY));
	make_stream(&k);
	/* 0, 2, 1, 3 */
	memcpy(s2, stream, frame_off[1]);
	n = frame_off[1];
	memcpy(s2 + n, stream + frame_off[2], frame_off[3] - frame_off[2]);
	n += frame_off[3] - frame_off[2];
	memcpy(s2 + n, stream + frame_off[1], frame_off[2] - frame_off[1]);
	n += frame_off[2] - frame_off[1];
	expect_refused(&k, 'S', s2, n, "frame 1 carries sequence number 2", 1);
	/* 0, 0: replayed */
	memcpy(s2, stream, frame_off[1]);
	memcpy(s2 + frame_off[1], stream, frame_off[1]);
	expect_refused(&k, 'S', s2, 2 * frame_off[1], "frame 1 carries sequence number 0", 1);
	/* 0, 1, 3: dropped */
	memcpy(s2, stream, frame_off[2]);
	memcpy(s2 + frame_off[2], stream + frame_off[3], frame_off[4] - frame_off[3]);
	expect_refused(&k, 'S', s2, frame_off[2] + frame_off[4] - frame_off[3],
		       "frame 2 carries sequence number 3", 2);
}

/* A length over the buffer or the type's limit is refused at the header,
 * before any payload is waited for. */
TEST(length_limits)
{
	struct mig_keys k;
	static u8 big[MIG_FRAME_MAX];
	struct mig_rx rx;
	u64 used;

	mig_keys_init(&k, KEY, strlen(KEY));
	mig_seal(&k, 'S', big, SNAP_SEC_MEMORY, 0, 0, "ram", MIG_MAX_PAYLOAD);
	mig_rx_init(&rx, &k, 'S', payload_buf, 4096);
	CHECK(mig_rx_feed(&rx, big, MIG_HDR_LEN, &used) == MIG_RX_ERROR);
	CHECK(strstr(rx.err, "length") != NULL);
	mig_seal(&k, 'S', big, SNAP_SEC_END, 0, 0, "end", 1);
	mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
	CHECK(mig_rx_feed(&rx, big, MIG_HDR_LEN, &used) == MIG_RX_ERROR);
	mig_seal(&k, 'S', big, 77, 0, 0, "what", 0);
	mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
	CHECK(mig_rx_feed(&rx, big, MIG_HDR_LEN, &used) == MIG_RX_ERROR);
	CHECK(strstr(rx.err, "unknown type 77") != NULL);
	/* The full-size memory frame goes through with room for it. */
	mig_seal(&k, 'S', big, SNAP_SEC_MEMORY, 0, 0, "ram", MIG_MAX_PAYLOAD);
	mig_rx_init(&rx, &k, 'S', payload_buf, sizeof(payload_buf));
	CHECK(mig_rx_feed(&rx, big, MIG_FRAME_MAX, &used) == MIG_RX_FRAME);
	CHECK_EQ(used, MIG_FRAME_MAX);
}

TEST(answer_payloads)
{
	struct mig_answer a = { .ok = false }, b;
	u8 p[256];
	u64 n;

	memset(a.nonce, 7, sizeof(a.nonce));
	strcpy(a.text, "not enough memory: 256 MiB asked, 100 MiB free");
	n = mig_answer_put(p, &a);
	CHECK(mig_answer_get(p, n, &b) == 0);
	CHECK(!b.ok);
	CHECK(strcmp(b.text, a.text) == 0);
	CHECK_EQ(b.nonce[3], 7);
	CHECK(mig_answer_get(p, n - 1, &b) == -EINVAL);
	CHECK(mig_answer_get(p, n + 1, &b) == -EINVAL);
	p[20] = '\n';
	CHECK(mig_answer_get(p, n, &b) == -EINVAL);
	p[0] = 2;
	CHECK(mig_answer_get(p, n, &b) == -EINVAL);
}

TEST(offer_payloads)
{
	struct mig_offer o = { .downtime_ms = 7 }, b;
	u8 p[MIG_OFFER_LEN];

	mig_offer_put(p, &o);
	CHECK(mig_offer_get(p, sizeof(p), &b) == 0);
	CHECK(mig_offer_get(p, sizeof(p) - 1, &b) == -EINVAL);
	p[0] = 2;
	CHECK(mig_offer_get(p, sizeof(p), &b) == -EINVAL);
}

TEST(ram_checks)
{
	static u8 p[MIG_MAX_PAYLOAD + PAGE_SIZE];
	u8 bm[64] = { 0 };
	struct mig_ram r;
	u64 mem = 6ULL << 20; /* three pieces */

	bm[0] = 1;
	mig_ram_put_hdr(p, 4ULL << 20, 512, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 2, mem, &r) == 0);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 1, mem, &r) == -EINVAL); /* instance */
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 2, 4ULL << 20, &r) == -EINVAL); /* past RAM */
	CHECK(mig_ram_check(p, MIG_MEM_HDR, 2, mem, &r) == -EINVAL);  /* a page short */
	CHECK(mig_ram_check(p, MIG_MEM_HDR + 2 * PAGE_SIZE, 2, mem, &r) == -EINVAL);
	bm[0] = 0;
	mig_ram_put_hdr(p, 4ULL << 20, 512, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR, 2, mem, &r) == -EINVAL);  /* no page */
	/* More pages than a frame carries. */
	memset(bm, 0xff, 9);
	mig_ram_put_hdr(p, 4ULL << 20, 512, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + 72 * PAGE_SIZE, 2, mem, &r) == -EINVAL);
	/* A short last piece: 3 MiB of RAM, piece 1 has 256 pages. */
	memset(bm, 0, sizeof(bm));
	bm[32] = 1; /* page 256: past it */
	mig_ram_put_hdr(p, 2ULL << 20, 256, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 1, 3ULL << 20, &r) == -EINVAL);
	bm[32] = 0;
	bm[31] = 0x80;
	mig_ram_put_hdr(p, 2ULL << 20, 256, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 1, 3ULL << 20, &r) == 0);
	mig_ram_put_hdr(p, 2ULL << 20, 512, bm);
	CHECK(mig_ram_check(p, MIG_MEM_HDR + PAGE_SIZE, 1, 3ULL << 20, &r) == -EINVAL);
}

TEST(features)
{
	u32 src[MIG_NR_FEATURES] = { 0 }, dst[MIG_NR_FEATURES] = { 0 }, miss = 0;

	CHECK(mig_features_missing(src, dst, &miss) == -1);
	src[2] = 0x30;
	dst[2] = 0x10;
	dst[5] = 0xff;
	CHECK(mig_features_missing(src, dst, &miss) == 2);
	CHECK_EQ(miss, 0x20);
	dst[2] = 0x30;
	CHECK(mig_features_missing(src, dst, &miss) == -1);
}

int main(void)
{
	RUN(round_trip_every_split);
	RUN(frame_fields);
	RUN(every_byte_corrupted);
	RUN(every_truncation);
	RUN(wrong_key_session_label);
	RUN(reordered_dropped_replayed);
	RUN(length_limits);
	RUN(answer_payloads);
	RUN(offer_payloads);
	RUN(ram_checks);
	RUN(features);
	return unit_done();
}
