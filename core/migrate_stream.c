/*
 * The migration stream's frames (include/hv/migrate_stream.h,
 * docs/migration.md): sealing on the sending side, an incremental parser on
 * the receiving side, and the protocol's small payloads.
 *
 * The parser is fed whatever TCP hands over, a byte or a megabyte at a time.
 * It checks a frame's header as soon as its 40 bytes are in (sequence
 * number, type, length within what the type and the buffer allow, the name),
 * so a bad length never makes it wait for or buffer bytes that will not
 * come; then it takes the payload into the caller's buffer, hashing as it
 * goes, and at the MAC's last byte checks the CRC-32 (a corrupt stream) and
 * then the MAC (a wrong key or a forgery): only then is the frame handed
 * out. Every refusal is one line in rx->err and the stream stays dead.
 */
#include "hv/migrate_stream.h"

#include <stdarg.h>

#include "hv/snapshot_vm.h"
#include "hv/gmem_layout.h"

#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"

#define MIG_OFFER_VERSION 1

const struct mig_feature mig_feature_words[MIG_NR_FEATURES] = {
	{ 0x1, 0, 2, 0 },        /* CPUID.1:ECX: SSE3 ... AVX, RDRAND */
	{ 0x1, 0, 3, 0 },        /* CPUID.1:EDX: FPU ... SSE2 */
	{ 0x7, 0, 1, 0 },        /* CPUID.(7,0):EBX: BMI, AVX2, SMEP ... */
	{ 0x7, 0, 2, 0 },        /* CPUID.(7,0):ECX */
	{ 0x7, 0, 3, 0 },        /* CPUID.(7,0):EDX */
	{ 0x80000001, 0, 2, 0 }, /* CPUID.80000001h:ECX: LAHF, ABM, SSE4A ... */
	{ 0x80000001, 0, 3, 0 }, /* CPUID.80000001h:EDX: NX, 1 GiB pages, RDTSCP, LM */
};

void mig_keys_init(struct mig_keys *k, const void *key, size_t keylen)
{
	hmac_sha256_key_init(&k->key, key, keylen);
	memset(k->session, 0, sizeof(k->session));
}

void mig_keys_wipe(struct mig_keys *k)
{
	memset(k, 0, sizeof(*k));
}

/* The MAC's input before the payload: label, session, header. */
static void mac_start(struct hmac_sha256 *m, const struct mig_keys *k, u8 label, const u8 *hdr)
{
	hmac_sha256_start(m, &k->key);
	hmac_sha256_update(m, &label, 1);
	hmac_sha256_update(m, k->session, sizeof(k->session));
	hmac_sha256_update(m, hdr, MIG_HDR_LEN);
}

u64 mig_seal(const struct mig_keys *k, u8 label, u8 *buf, u32 type, u32 instance, u32 seq,
	     const char *name, u64 len)
{
	u8 *hdr = buf, *payload = buf + MIG_HDR_LEN;
	struct hmac_sha256 m;
	u32 crc;

	memset(hdr, 0, MIG_HDR_LEN);
	snap_st32(hdr + SNAP_SH_TYPE, type);
	snap_st32(hdr + SNAP_SH_INSTANCE, instance);
	snap_st64(hdr + SNAP_SH_LENGTH, len);
	snap_st32(hdr + SNAP_SH_INDEX, seq);
	strlcpy((char *)hdr + SNAP_SH_NAME, name, SNAP_NAME_LEN);
	/* As in the snapshot: the payload's CRC continued over the header. */
	crc = crc32_update(CRC32_INIT, payload, len);
	crc = crc32_final(crc32_update(crc, hdr, SNAP_SH_CRC));
	snap_st32(hdr + SNAP_SH_CRC, crc);

	mac_start(&m, k, label, hdr);
	hmac_sha256_update(&m, payload, len);
	hmac_sha256_final(&m, payload + len);
	return MIG_HDR_LEN + len + MIG_MAC_LEN;
}

/* ---- receiving ---- */

void mig_rx_init(struct mig_rx *rx, const struct mig_keys *k, u8 label, u8 *payload, u64 cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->keys = k;
	rx->label = label;
	rx->payload = payload;
	rx->cap = cap;
}

void mig_rx_fail(struct mig_rx *rx, const char *fmt, ...)
{
	va_list ap;

	if (rx->dead)
		return; /* the first reason is the one that counts */
	va_start(ap, fmt);
	fmt_vsnprintf(rx->err, sizeof(rx->err), fmt, ap);
	va_end(ap);
	rx->dead = true;
}

static const char *type_name(u32 type)
{
	switch (type) {
	case SNAP_SEC_END: return "end";
	case SNAP_SEC_CONFIG: return "config";
	case SNAP_SEC_MEMORY: return "ram";
	case SNAP_SEC_VCPU: return "vcpu";
	case SNAP_SEC_DEVICE: return "device";
	case SNAP_SEC_VM: return "vm";
	case MIG_OFFER: return "offer";
	case MIG_ANSWER: return "answer";
	case MIG_DONE: return "done";
	}
	return NULL;
}

/* The most a frame of this type may carry. */
static u64 type_limit(u32 type)
{
	switch (type) {
	case SNAP_SEC_END: return 0;
	case SNAP_SEC_CONFIG: return 32 + SNAP_CONFIG_LINE_MAX;
	case SNAP_SEC_VM: return 64;
	case MIG_OFFER: return MIG_OFFER_LEN;
	case MIG_ANSWER:
	case MIG_DONE: return 1 + MIG_NONCE_LEN + 2 + MIG_REASON_MAX;
	}
	return MIG_MAX_PAYLOAD; /* memory, vCPUs, devices */
}

/* The header is in: everything that can be judged before the payload. */
static bool header_ok(struct mig_rx *rx)
{
	const u8 *h = rx->raw;
	u32 seq = snap_le32(h + SNAP_SH_INDEX);
	const char *tn;
	size_t nl;

	rx->type = snap_le32(h + SNAP_SH_TYPE);
	rx->instance = snap_le32(h + SNAP_SH_INSTANCE);
	rx->len = snap_le64(h + SNAP_SH_LENGTH);
	memcpy(rx->name, h + SNAP_SH_NAME, SNAP_NAME_LEN);
	tn = type_name(rx->type);
	if (seq != rx->seq) {
		mig_rx_fail(rx, "frame %u carries sequence number %u: reordered, dropped, replayed "
				"or corrupt", rx->seq, seq);
		return false;
	}
	if (!tn) {
		mig_rx_fail(rx, "frame %u: unknown type %u (corrupt?)", rx->seq, rx->type);
		return false;
	}
	if (rx->len > type_limit(rx->type) || rx->len > rx->cap) {
		mig_rx_fail(rx, "frame %u (%s): length %lu is more than such a frame holds "
				"(corrupt?)", rx->seq, tn, (unsigned long)rx->len);
		return false;
	}
	/* 1-15 printable characters, NUL-padded, as the snapshot's names. */
	nl = strnlen(rx->name, SNAP_NAME_LEN);
	for (size_t i = 0; i < SNAP_NAME_LEN && nl && nl < SNAP_NAME_LEN; i++)
		if (i < nl ? rx->name[i] <= 0x20 || rx->name[i] >= 0x7f : rx->name[i] != 0)
			nl = 0;
	if (nl == 0 || nl == SNAP_NAME_LEN) {
		mig_rx_fail(rx, "frame %u (%s): malformed name (corrupt?)", rx->seq, tn);
		return false;
	}
	mac_start(&rx->hm, rx->keys, rx->label, h);
	rx->crc = CRC32_INIT;
	return true;
}

/* The MAC's last byte is in. */
static bool trailer_ok(struct mig_rx *rx)
{
	u8 want[MIG_MAC_LEN];
	u32 crc = crc32_final(crc32_update(rx->crc, rx->raw, SNAP_SH_CRC));
	bool crc_ok = crc == snap_le32(rx->raw + SNAP_SH_CRC);
	bool mac_ok;

	hmac_sha256_final(&rx->hm, want);
	mac_ok = hmac_equal(want, rx->mac, MIG_MAC_LEN);
	memset(want, 0, sizeof(want));
	/* A frame whose CRC is right but whose MAC is not was made by someone
	 * without our key (or with another one); one whose CRC is wrong was
	 * damaged on the way, or forged clumsily. */
	if (!crc_ok) {
		mig_rx_fail(rx, "frame %u (%s '%s'): checksum mismatch: the stream is corrupt",
			    rx->seq, type_name(rx->type), rx->name);
		return false;
	}
	if (!mac_ok) {
		mig_rx_fail(rx, "frame %u (%s '%s'): MAC mismatch: the hosts' migrate_key differ, "
				"or the frame is forged", rx->seq, type_name(rx->type), rx->name);
		return false;
	}
	return true;
}

enum mig_rx_result mig_rx_feed(struct mig_rx *rx, const u8 *data, u64 len, u64 *used)
{
	u64 pos = 0;

	*used = 0;
	if (rx->dead)
		return MIG_RX_ERROR;
	while (pos < len) {
		u64 want, take;

		if (rx->got < MIG_HDR_LEN) {
			take = MIN(len - pos, MIG_HDR_LEN - rx->got);
			memcpy(rx->raw + rx->got, data + pos, take);
			rx->got += take;
			pos += take;
			if (rx->got == MIG_HDR_LEN && !header_ok(rx))
				break;
			continue;
		}
		want = MIG_HDR_LEN + rx->len;
		if (rx->got < want) {
			u8 *dst = rx->payload + (rx->got - MIG_HDR_LEN);

			take = MIN(len - pos, want - rx->got);
			memcpy(dst, data + pos, take);
			rx->crc = crc32_update(rx->crc, dst, take);
			hmac_sha256_update(&rx->hm, dst, take);
			rx->got += take;
			pos += take;
			continue;
		}
		take = MIN(len - pos, want + MIG_MAC_LEN - rx->got);
		memcpy(rx->mac + (rx->got - want), data + pos, take);
		rx->got += take;
		pos += take;
		if (rx->got == want + MIG_MAC_LEN) {
			*used = pos;
			if (!trailer_ok(rx))
				return MIG_RX_ERROR;
			rx->got = 0;
			rx->seq++;
			return MIG_RX_FRAME;
		}
	}
	*used = pos;
	return rx->dead ? MIG_RX_ERROR : MIG_RX_MORE;
}

/* An empty frame (END) completes on its MAC, so "between frames" is got 0. */
bool mig_rx_eof(struct mig_rx *rx)
{
	if (rx->dead)
		return false;
	if (rx->got == 0)
		return true;
	if (rx->got < MIG_HDR_LEN)
		mig_rx_fail(rx, "the stream ended inside frame %u's header (%lu of %u bytes): "
				"truncated", rx->seq, (unsigned long)rx->got, MIG_HDR_LEN);
	else
		mig_rx_fail(rx, "the stream ended inside frame %u (%s), %lu of %lu bytes: truncated",
			    rx->seq, type_name(rx->type), (unsigned long)rx->got,
			    (unsigned long)(MIG_HDR_LEN + rx->len + MIG_MAC_LEN));
	return false;
}

/* ---- payloads ---- */

u64 mig_offer_put(u8 *p, const struct mig_offer *o)
{
	snap_st16(p, MIG_OFFER_VERSION);
	snap_st16(p + 2, MIG_NR_FEATURES);
	memcpy(p + 4, o->nonce, MIG_NONCE_LEN);
	snap_st64(p + 4 + MIG_NONCE_LEN, o->downtime_ms);
	for (int i = 0; i < MIG_NR_FEATURES; i++)
		snap_st32(p + 12 + MIG_NONCE_LEN + 4 * i, o->features[i]);
	return MIG_OFFER_LEN;
}

int mig_offer_get(const u8 *p, u64 len, struct mig_offer *o)
{
	if (len != MIG_OFFER_LEN || snap_le16(p) != MIG_OFFER_VERSION ||
	    snap_le16(p + 2) != MIG_NR_FEATURES)
		return -EINVAL;
	memcpy(o->nonce, p + 4, MIG_NONCE_LEN);
	o->downtime_ms = snap_le64(p + 4 + MIG_NONCE_LEN);
	for (int i = 0; i < MIG_NR_FEATURES; i++)
		o->features[i] = snap_le32(p + 12 + MIG_NONCE_LEN + 4 * i);
	return 0;
}

u64 mig_answer_put(u8 *p, const struct mig_answer *a)
{
	size_t n = strnlen(a->text, MIG_REASON_MAX);

	p[0] = a->ok;
	memcpy(p + 1, a->nonce, MIG_NONCE_LEN);
	snap_st16(p + 1 + MIG_NONCE_LEN, (u16)n);
	memcpy(p + 3 + MIG_NONCE_LEN, a->text, n);
	return 3 + MIG_NONCE_LEN + n;
}

int mig_answer_get(const u8 *p, u64 len, struct mig_answer *a)
{
	u16 n;

	if (len < 3 + MIG_NONCE_LEN || p[0] > 1)
		return -EINVAL;
	n = snap_le16(p + 1 + MIG_NONCE_LEN);
	if (n > MIG_REASON_MAX || len != 3 + MIG_NONCE_LEN + (u64)n)
		return -EINVAL;
	for (u16 i = 0; i < n; i++)
		if (p[3 + MIG_NONCE_LEN + i] < 0x20 || p[3 + MIG_NONCE_LEN + i] >= 0x7f)
			return -EINVAL;
	a->ok = p[0];
	memcpy(a->nonce, p + 1, MIG_NONCE_LEN);
	memcpy(a->text, p + 3 + MIG_NONCE_LEN, n);
	a->text[n] = 0;
	return 0;
}

void mig_ram_put_hdr(u8 *p, u64 gpa, u32 npages, const u8 *bitmap)
{
	snap_st64(p, gpa);
	snap_st32(p + 8, npages);
	snap_st32(p + 12, 0);
	memcpy(p + 16, bitmap, SNAP_MEM_PIECE_PAGES / 8);
}

int mig_ram_check(const u8 *p, u64 len, u32 instance, u64 mem_size, struct mig_ram *r)
{
	u64 gpa, ram;

	if (len < MIG_MEM_HDR)
		return -EINVAL;
	gpa = snap_le64(p);
	/* RAM only: below the PCI hole or above 4 GiB (include/hv/gmem_layout.h). */
	ram = gmem_layout_ram_after(gmem_layout_of(mem_size), gpa);
	if (gpa != (u64)instance << SNAP_MEM_PIECE_SHIFT || !ram)
		return -EINVAL;
	r->gpa = gpa;
	r->npages = snap_le32(p + 8);
	if (r->npages != MIN((u64)SNAP_MEM_PIECE_PAGES, ram / PAGE_SIZE) ||
	    snap_le32(p + 12) != 0)
		return -EINVAL;
	memcpy(r->bitmap, p + 16, sizeof(r->bitmap));
	r->present = 0;
	for (u32 i = 0; i < SNAP_MEM_PIECE_PAGES; i++) {
		if (!(r->bitmap[i / 8] & (1u << (i % 8))))
			continue;
		if (i >= r->npages)
			return -EINVAL;
		r->present++;
	}
	if (r->present == 0 || r->present > MIG_MEM_FRAME_PAGES ||
	    len != MIG_MEM_HDR + (u64)r->present * PAGE_SIZE)
		return -EINVAL;
	return 0;
}

int mig_features_missing(const u32 *src, const u32 *dst, u32 *missing)
{
	for (int i = 0; i < MIG_NR_FEATURES; i++) {
		if (src[i] & ~dst[i]) {
			*missing = src[i] & ~dst[i];
			return i;
		}
	}
	return -1;
}
