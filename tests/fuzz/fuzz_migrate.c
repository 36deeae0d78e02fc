/*
 * libFuzzer target: the migration stream's receiving side
 * (core/migrate_stream.c). The first byte chooses:
 *   bit 0 clear: the rest is a stream as bytes, fed in pieces whose sizes
 *     come from the first byte's other bits (a peer's TCP segments);
 *   bit 0 set: the rest is records {u8 type selector, u8 name selector,
 *     u16 length (LE), payload}, sealed under the test key as the source
 *     would (so the CRC and MAC hold and the payload checks are reached),
 *     with bit 1 set one byte of the sealed stream flipped at an offset the
 *     record data chooses.
 * Every frame the parser hands out goes through the payload checks the
 * destination and source run (mig_ram_check, mig_offer_get,
 * mig_answer_get). Nothing may crash, read out of bounds or hand out a
 * frame after an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/migrate_stream.h"

#define KEY "fuzzing-key-0123456789"

static u8 payload[MIG_MAX_PAYLOAD];
static u8 sealed[4 * MIG_FRAME_MAX];

static void check_frame(const struct mig_rx *rx)
{
	struct mig_ram r;
	struct mig_offer o;
	struct mig_answer a;

	switch (rx->type) {
	case SNAP_SEC_MEMORY:
		mig_ram_check(rx->payload, rx->len, rx->instance, 64ULL << 20, &r);
		mig_ram_check(rx->payload, rx->len, rx->instance, 3ULL << 20, &r);
		break;
	case MIG_OFFER:
		mig_offer_get(rx->payload, rx->len, &o);
		break;
	case MIG_ANSWER:
	case MIG_DONE:
		mig_answer_get(rx->payload, rx->len, &a);
		break;
	}
}

static void parse(const struct mig_keys *k, const u8 *s, size_t n, unsigned step)
{
	struct mig_rx rx;
	size_t pos = 0;

	mig_rx_init(&rx, k, 'S', payload, sizeof(payload));
	while (pos < n) {
		u64 used;
		enum mig_rx_result r = mig_rx_feed(&rx, s + pos, MIN(step, n - pos), &used);

		if (r == MIG_RX_ERROR) {
			if (!rx.dead || !rx.err[0])
				abort();
			return;
		}
		if (r == MIG_RX_FRAME)
			check_frame(&rx);
		pos += used;
	}
	mig_rx_eof(&rx);
}

static const u32 types[] = { SNAP_SEC_END, SNAP_SEC_CONFIG, SNAP_SEC_MEMORY, SNAP_SEC_VCPU,
			     SNAP_SEC_DEVICE, SNAP_SEC_VM, MIG_OFFER, MIG_ANSWER, MIG_DONE };
static const char *const names[] = { "end", "ram", "vcpu.0", "uart", "offer", "x" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mig_keys k;
	static bool keyed;
	size_t pos = 1, out = 0;
	u32 seq = 0, flip = 0;

	if (!keyed) {
		mig_keys_init(&k, KEY, strlen(KEY));
		keyed = true;
	}
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		parse(&k, data + 1, size - 1, 1u + data[0] * 37u);
		return 0;
	}
	while (pos + 4 <= size && seq < 4) {
		u32 len = (u32)data[pos + 2] | (u32)data[pos + 3] << 8;
		u32 type = types[data[pos] % ARRAY_SIZE(types)];
		const char *name = names[data[pos + 1] % ARRAY_SIZE(names)];

		/* A memory record's length is scaled up to reach whole frames. */
		if (type == SNAP_SEC_MEMORY && (data[pos + 1] & 0x80))
			len = MIG_MEM_HDR + (len % (MIG_MEM_FRAME_PAGES + 1)) * PAGE_SIZE;
		if (len > MIG_MAX_PAYLOAD)
			len = MIG_MAX_PAYLOAD;
		pos += 4;
		memset(sealed + out + MIG_HDR_LEN, 0, len);
		memcpy(sealed + out + MIG_HDR_LEN, data + pos, MIN((size_t)len, size - pos));
		pos += MIN((size_t)len, size - pos);
		flip = flip * 31 + len + type;
		out += mig_seal(&k, 'S', sealed + out, type, data[pos - 1], seq++, name, len);
	}
	if ((data[0] & 2) && out)
		sealed[flip % out] ^= (u8)(1u << (flip % 8));
	parse(&k, sealed, out, 1u + (data[0] >> 2) * 997u);
	return 0;
}
