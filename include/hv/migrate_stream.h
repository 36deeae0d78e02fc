/*
 * The live-migration stream (docs/migration.md): the snapshot format's
 * sections (include/hv/snapshot.h) framed for a TCP stream and each one
 * authenticated with HMAC-SHA-256 (lib/hmac_sha256.h) under the key the two
 * hosts share (migrate_key=, never sent).
 *
 *   frame = header (40 bytes: the snapshot's section header, its index
 *           field the frame's sequence number in its direction)
 *           payload (length bytes)
 *           MAC (32 bytes) = HMAC-SHA-256(key, label || session || header || payload)
 *
 * label is 'S' for frames from the source, 'D' from the destination, so a
 * frame cannot be reflected back; session is the two 16-byte nonces of this
 * migration, the source's then the destination's: all zeros for the offer
 * (which carries the source's nonce), the source's nonce and zeros up to
 * the destination's answer (which carries its nonce), both after that; so
 * a frame of another migration does not authenticate; the sequence number in the header (checked against the
 * count of frames received) is covered by the MAC, so frames cannot be
 * dropped, reordered or replayed within one.
 *
 * Pure code, no allocation: the hypervisor (core/migrate_send.c,
 * core/migrate_recv.c), the unit tests and the fuzzer build the same file.
 */
#ifndef HV_MIGRATE_STREAM_H
#define HV_MIGRATE_STREAM_H

#include "hv/snapshot.h"
#include "hv/types.h"
#include "lib/hmac_sha256.h"

#define MIG_KEY_MIN 16       /* migrate_key=: bytes (characters) */
#define MIG_KEY_MAX 64
#define MIG_NONCE_LEN 16
#define MIG_MAC_LEN HMAC_SHA256_LEN
#define MIG_HDR_LEN SNAP_SECTION_HEADER_LEN
#define MIG_PORT_DEFAULT 8081
#define MIG_DOWNTIME_MS_DEFAULT 50

#define MIG_LABEL_SOURCE 'S'
#define MIG_LABEL_DEST 'D'

/* Frame types besides the snapshot's own (SNAP_SEC_END, _CONFIG, _MEMORY,
 * _VCPU, _DEVICE, _VM): the protocol's messages. */
#define MIG_OFFER 0x100      /* source, frame 0: its nonce and the CPU features the VM sees */
#define MIG_ANSWER 0x101     /* destination, frame 0: accepted or refused (why), its nonce */
#define MIG_DONE 0x102       /* destination, frame 1: the VM runs here, or why not */

/* A memory frame carries one 2 MiB piece's layout (docs/snapshot.md, type
 * 2), but at most this many pages, and the pages it leaves out are
 * unchanged rather than zero: later rounds send only what was written. */
#define MIG_MEM_FRAME_PAGES 64
#define MIG_MEM_HDR 80       /* gpa, page count, flags, 64-byte bitmap */
#define MIG_MAX_PAYLOAD (MIG_MEM_HDR + MIG_MEM_FRAME_PAGES * PAGE_SIZE)
#define MIG_FRAME_MAX (MIG_HDR_LEN + MIG_MAX_PAYLOAD + MIG_MAC_LEN)

#define MIG_REASON_MAX 200   /* an answer's or done's text */
#define MIG_NR_FEATURES 7    /* CPUID words in the offer */
#define MIG_ERR_MAX 160

/* The shared key, absorbed once, and this migration's session. */
struct mig_keys {
	struct hmac_sha256_key key;
	u8 session[2 * MIG_NONCE_LEN];
};

void mig_keys_init(struct mig_keys *k, const void *key, size_t keylen);
void mig_keys_wipe(struct mig_keys *k);

/* ---- sending ---- */

/*
 * Seals the frame at buf: buf holds MIG_HDR_LEN bytes of room, then the
 * payload (len bytes, already there), then MIG_MAC_LEN bytes of room.
 * Writes the header (type, instance, length, index = seq, name, CRC-32 as
 * the snapshot format has it) and the MAC. Returns the frame's length.
 */
u64 mig_seal(const struct mig_keys *k, u8 label, u8 *buf, u32 type, u32 instance, u32 seq,
	     const char *name, u64 len);

/* ---- receiving ---- */

enum mig_rx_result {
	MIG_RX_MORE,         /* everything given was taken; no frame is whole yet */
	MIG_RX_FRAME,        /* a frame is whole and authentic: rx->hdr, rx->payload */
	MIG_RX_ERROR,        /* refused: rx->err says why; the stream is dead */
};

struct mig_rx {
	const struct mig_keys *keys;
	u8 label;            /* the label the peer's frames carry */
	u8 *payload;         /* cap bytes, the caller's */
	u64 cap;
	u32 seq;             /* the sequence number the next frame must carry */
	/* the frame being received */
	u8 raw[MIG_HDR_LEN];
	u8 mac[MIG_MAC_LEN];
	u64 got;             /* bytes of the current frame so far */
	u32 type, instance;
	u64 len;
	char name[SNAP_NAME_LEN];
	u32 crc;             /* running CRC-32 of the payload */
	struct hmac_sha256 hm;
	bool dead;
	char err[MIG_ERR_MAX];
};

void mig_rx_init(struct mig_rx *rx, const struct mig_keys *k, u8 label, u8 *payload, u64 cap);
/* Takes bytes; *used says how many. After MIG_RX_FRAME the frame's fields
 * stay valid until the next call. */
enum mig_rx_result mig_rx_feed(struct mig_rx *rx, const u8 *data, u64 len, u64 *used);
/* The stream ended: true when it ended between frames; false (rx->err set)
 * inside one. */
bool mig_rx_eof(struct mig_rx *rx);
/* Marks the stream bad with a message of the caller's (a frame that
 * authenticates but makes no sense where it came). */
void mig_rx_fail(struct mig_rx *rx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- payloads ---- */

/* CPUID words compared by the destination: what the VM sees. */
struct mig_feature {
	u32 leaf, subleaf;
	u8 reg;              /* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
	u32 bits;
};

extern const struct mig_feature mig_feature_words[MIG_NR_FEATURES]; /* bits 0 */

struct mig_offer {
	u8 nonce[MIG_NONCE_LEN];
	u32 features[MIG_NR_FEATURES]; /* mig_feature_words' order */
	u64 downtime_ms;               /* informative: the source's target */
};

/* Offer: u16 version 1, u16 feature words n, 16-byte nonce, u64 downtime
 * target, n x u32 feature words. */
#define MIG_OFFER_LEN (2 + 2 + MIG_NONCE_LEN + 8 + 4 * MIG_NR_FEATURES)
u64 mig_offer_put(u8 *p, const struct mig_offer *o);
int mig_offer_get(const u8 *p, u64 len, struct mig_offer *o);

/* Answer and done: u8 accepted/ok, 16-byte nonce (done: zeros), u16 text
 * length, the text (printable ASCII). */
struct mig_answer {
	bool ok;
	u8 nonce[MIG_NONCE_LEN];
	char text[MIG_REASON_MAX + 1];
};
u64 mig_answer_put(u8 *p, const struct mig_answer *a);
int mig_answer_get(const u8 *p, u64 len, struct mig_answer *a);

/* A memory frame's payload, checked against a VM of mem_size bytes: its
 * piece (instance), the present-page bitmap, the length. 0, or -EINVAL. */
struct mig_ram {
	u64 gpa;             /* the piece's address */
	u32 npages;          /* pages in the piece */
	u8 bitmap[SNAP_MEM_PIECE_PAGES / 8];
	u32 present;
};
int mig_ram_check(const u8 *p, u64 len, u32 instance, u64 mem_size, struct mig_ram *r);
/* Writes the header of a memory frame's payload; the pages follow. */
void mig_ram_put_hdr(u8 *p, u64 gpa, u32 npages, const u8 *bitmap);

/* Names the first feature the source's VM sees that the destination's
 * would not: -1 when none is missing, else its index with the bits in
 * *missing. */
int mig_features_missing(const u32 *src, const u32 *dst, u32 *missing);

#endif
