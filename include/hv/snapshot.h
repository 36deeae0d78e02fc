/*
 * The snapshot format: a whole VM (configuration, memory, vCPUs, devices) as
 * bytes, for restore, live migration and disk. docs/snapshot.md describes it
 * byte for byte; in short:
 *
 *   file header (32 bytes)  magic "UTSWSNAP", version, header length,
 *                           section count, total length, header CRC-32
 *   sections                each a 40-byte header (type, instance, payload
 *                           length, index, name, CRC-32) and its payload
 *   end section             type SNAP_SEC_END, empty; nothing after it
 *
 * Everything is little-endian with explicit widths. A snapshot lives in a
 * list of equal chunks (2 MiB), never one contiguous block, so a 256 MiB
 * guest's snapshot needs no 256 MiB of contiguous host memory; sections and
 * values may straddle chunks.
 *
 * Writing: snap_writer_init, then per section snap_section_begin, the
 * snap_put_* calls, snap_section_end; then snap_writer_finish hands out the
 * snapshot. Errors are sticky (out of memory, a put outside a section):
 * the calls after one do nothing, and the next int-returning call says so.
 *
 * Reading: snap_verify checks the whole snapshot first (and reports one line
 * naming the section at fault); only then snap_find and the snap_get_*
 * getters. Getters never read outside their section: reading past its end
 * sets the cursor's sticky error and returns zeros.
 */
#ifndef HV_SNAPSHOT_H
#define HV_SNAPSHOT_H

#include "hv/types.h"

#define SNAP_MAGIC "UTSWSNAP" /* 8 bytes, no NUL */
#define SNAP_VERSION 2 /* 2: vcpu_state version 2 (docs/snapshot.md) */
#define SNAP_HEADER_LEN 32
#define SNAP_SECTION_HEADER_LEN 40
#define SNAP_NAME_LEN 16     /* a section's name field; NUL-padded, at least one NUL */
#define SNAP_CHUNK_SHIFT 21  /* 2 MiB chunks */
#define SNAP_MAX_SECTIONS 0x100000u
#define SNAP_ERR_MAX 128     /* room for snap_verify's message */

/* Section types (docs/snapshot.md, "Section types"). */
#define SNAP_SEC_END 0       /* the last section; empty */
#define SNAP_SEC_CONFIG 1    /* the VM's configuration: always section 0 */
#define SNAP_SEC_MEMORY 2    /* guest RAM: one 2 MiB-aligned piece; instance = gpa >> 21 */
#define SNAP_SEC_VCPU 3      /* one vCPU's struct vcpu_state; instance = vCPU index */
#define SNAP_SEC_DEVICE 4    /* one device; instance = device index, name = device name */
#define SNAP_SEC_VM 5        /* VM-wide state besides config and memory: the guest clock */

/* Guest memory pieces (SNAP_SEC_MEMORY): 512 pages of 4 KiB at most. */
#define SNAP_MEM_PIECE_SHIFT 21
#define SNAP_MEM_PIECE_PAGES 512

/*
 * Where the chunks come from. alloc returns size bytes (need not be
 * zeroed), or NULL; free gets the same size back. The hypervisor uses
 * snap_page_alloc (page_alloc); host tests use malloc.
 */
struct snap_alloc {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);
	void *ctx;
};

/* Whole pages from page_alloc (core/snapshot_alloc.c): a 2 MiB chunk is 512
 * contiguous pages, never more. */
extern const struct snap_alloc snap_page_alloc;

/* A snapshot: len bytes in chunks of 1 << chunk_shift bytes (all full but
 * the last). The chunk table comes from the same allocator. */
struct snapshot {
	u8 **chunks;
	u64 nr_chunks;   /* in use */
	u64 table_cap;   /* entries the chunk table has room for */
	u64 len;
	u32 chunk_shift;
	const struct snap_alloc *alloc;
};

#define SNAP_NO_SECTION (~0ULL)

struct snap_writer {
	struct snapshot snap;
	u64 section_start;  /* the open section's header offset, or SNAP_NO_SECTION */
	u32 section_crc;    /* running CRC of the open section's payload */
	u32 nr_sections;
	int err;            /* sticky: 0 or a negative errno */
};

/* Starts an empty snapshot (its file header is filled by finish). -ENOMEM. */
int snap_writer_init(struct snap_writer *w, const struct snap_alloc *alloc);
/* The same with chunks of 1 << shift bytes (12..SNAP_CHUNK_SHIFT; -EINVAL
 * else): for tests and the fuzzer, which want many chunk boundaries. */
int snap_writer_init_chunked(struct snap_writer *w, const struct snap_alloc *alloc, u32 shift);
/* Opens a section: -EINVAL when one is open, the name is longer than
 * SNAP_NAME_LEN - 1 or type is SNAP_SEC_END. */
int snap_section_begin(struct snap_writer *w, u32 type, u32 instance, const char *name);
void snap_put_u8(struct snap_writer *w, u8 v);
void snap_put_u16(struct snap_writer *w, u16 v);
void snap_put_u32(struct snap_writer *w, u32 v);
void snap_put_u64(struct snap_writer *w, u64 v);
void snap_put_bool(struct snap_writer *w, bool v); /* one byte, 0 or 1 */
void snap_put_bytes(struct snap_writer *w, const void *p, size_t n);
/* Closes the open section: fills in its length and CRC-32. */
int snap_section_end(struct snap_writer *w);
/* The sticky error so far (0: none). */
int snap_writer_error(const struct snap_writer *w);
/* Appends the end section, fills the file header and moves the result to
 * *out. On any error (sticky, or a section still open) everything is freed
 * and *out is empty. */
int snap_writer_finish(struct snap_writer *w, struct snapshot *out);
/* Drops an unfinished writer's memory. */
void snap_writer_abort(struct snap_writer *w);
/* Frees a snapshot's chunks and table; *s becomes empty. Safe on an empty one. */
void snap_free(struct snapshot *s);

/* Copies len contiguous bytes (e.g. received from the network or a disk)
 * into a new snapshot of 1 << chunk_shift chunks (12..SNAP_CHUNK_SHIFT).
 * -EINVAL for a bad shift, -ENOMEM. The result still needs snap_verify. */
int snap_from_bytes(struct snapshot *s, const struct snap_alloc *alloc, const void *buf,
		    u64 len, u32 chunk_shift);
/* Copies n bytes at offset off out of the snapshot: -ERANGE past its end. */
int snap_read_at(const struct snapshot *s, u64 off, void *dst, u64 n);

/*
 * Checks everything before anything is used: magic, version, header length
 * and CRC, total length against the bytes present, then each section's
 * header (bounds, index, name, reserved zero), length and CRC-32, the
 * section count, the end section last and nothing after it. 0, or -EINVAL
 * with err holding one line such as
 *   "snapshot: section 3 'vcpu.1': checksum mismatch"
 * (err may be NULL). Reads s only.
 */
int snap_verify(const struct snapshot *s, char *err, size_t n);

/* A read position inside one section's payload. */
struct snap_cursor {
	const struct snapshot *s;
	u64 pos, end;       /* absolute offsets; the payload is [start, end) */
	u64 start;
	u64 next;           /* offset of the section after this one */
	u32 type, instance, index;
	char name[SNAP_NAME_LEN];
	int err;            /* sticky: -EINVAL after an over-read */
};

/* The section of that type and instance (the first one), a cursor at its
 * payload's start: 0 or -ENOENT. Use on a verified snapshot. */
int snap_find(const struct snapshot *s, u32 type, u32 instance, struct snap_cursor *c);
/* The device section of that index (instance), checked to be that device:
 * -ENOENT when there is none, -EINVAL when it names another device. */
int snap_find_device(const struct snapshot *s, u32 index, const char *name, struct snap_cursor *c);
/* Walks the sections in order, the end section excluded: snap_first, then
 * snap_next while they return 0; -ENOENT at the end. */
int snap_first(const struct snapshot *s, struct snap_cursor *c);
int snap_next(struct snap_cursor *c);

u8 snap_get_u8(struct snap_cursor *c);
u16 snap_get_u16(struct snap_cursor *c);
u32 snap_get_u32(struct snap_cursor *c);
u64 snap_get_u64(struct snap_cursor *c);
/* A byte that must be 0 or 1; anything else sets the error. */
bool snap_get_bool(struct snap_cursor *c);
/* n bytes into dst; past the end: dst zeroed, error set. */
void snap_get_bytes(struct snap_cursor *c, void *dst, size_t n);
/* Marks the cursor bad (a loader found an impossible value). */
void snap_cursor_fail(struct snap_cursor *c);

static inline bool snap_cursor_ok(const struct snap_cursor *c)
{
	return c->err == 0;
}

static inline u64 snap_cursor_left(const struct snap_cursor *c)
{
	return c->end - c->pos;
}

/* No error and the whole payload read: what a loader checks at the end. */
static inline bool snap_cursor_done(const struct snap_cursor *c)
{
	return c->err == 0 && c->pos == c->end;
}

#endif
