/*
 * The snapshot writer and the chunk store under it (docs/snapshot.md).
 *
 * Bytes are appended to fixed-size chunks taken from an injectable
 * allocator; the table of chunk pointers grows by doubling. A section's
 * header is written with length and CRC zero when it opens and patched when
 * it closes; the CRC runs over the payload as it is appended, so closing a
 * section does not read its payload again.
 */
#include "hv/snapshot.h"

#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "lib/string.h"

static u64 chunk_size(const struct snapshot *s)
{
	return 1ULL << s->chunk_shift;
}

static void snap_init_empty(struct snapshot *s, const struct snap_alloc *alloc, u32 shift)
{
	memset(s, 0, sizeof(*s));
	s->alloc = alloc;
	s->chunk_shift = shift;
}

void snap_free(struct snapshot *s)
{
	const struct snap_alloc *a = s->alloc;

	if (a) {
		for (u64 i = 0; i < s->nr_chunks; i++)
			a->free(a->ctx, s->chunks[i], chunk_size(s));
		if (s->chunks)
			a->free(a->ctx, s->chunks, s->table_cap * sizeof(s->chunks[0]));
	}
	snap_init_empty(s, a, s->chunk_shift);
}

static int add_chunk(struct snapshot *s)
{
	const struct snap_alloc *a = s->alloc;
	u8 *chunk;

	if (s->nr_chunks == s->table_cap) {
		u64 cap = s->table_cap ? s->table_cap * 2 : 16;
		u8 **table = a->alloc(a->ctx, cap * sizeof(*table));

		if (!table)
			return -ENOMEM;
		if (s->chunks) {
			memcpy(table, s->chunks, s->nr_chunks * sizeof(*table));
			a->free(a->ctx, s->chunks, s->table_cap * sizeof(*table));
		}
		s->chunks = table;
		s->table_cap = cap;
	}
	chunk = a->alloc(a->ctx, chunk_size(s));
	if (!chunk)
		return -ENOMEM;
	s->chunks[s->nr_chunks++] = chunk;
	return 0;
}

static int append(struct snapshot *s, const void *p, u64 n)
{
	const u8 *src = p;

	while (n) {
		u64 room, off, step;
		int ret;

		if (s->len == s->nr_chunks << s->chunk_shift) {
			ret = add_chunk(s);
			if (ret)
				return ret;
		}
		off = s->len & (chunk_size(s) - 1);
		room = chunk_size(s) - off;
		step = MIN(room, n);
		memcpy(s->chunks[s->len >> s->chunk_shift] + off, src, step);
		s->len += step;
		src += step;
		n -= step;
	}
	return 0;
}

/* Overwrites bytes already appended. */
static void write_at(struct snapshot *s, u64 off, const void *p, u64 n)
{
	const u8 *src = p;

	while (n) {
		u64 in = off & (chunk_size(s) - 1);
		u64 step = MIN(chunk_size(s) - in, n);

		memcpy(s->chunks[off >> s->chunk_shift] + in, src, step);
		off += step;
		src += step;
		n -= step;
	}
}

int snap_read_at(const struct snapshot *s, u64 off, void *dst, u64 n)
{
	u8 *out = dst;

	if (off > s->len || n > s->len - off)
		return -ERANGE;
	while (n) {
		u64 in = off & (chunk_size(s) - 1);
		u64 step = MIN(chunk_size(s) - in, n);

		memcpy(out, s->chunks[off >> s->chunk_shift] + in, step);
		off += step;
		out += step;
		n -= step;
	}
	return 0;
}

int snap_from_bytes(struct snapshot *s, const struct snap_alloc *alloc, const void *buf,
		    u64 len, u32 chunk_shift)
{
	int ret;

	if (chunk_shift < 12 || chunk_shift > SNAP_CHUNK_SHIFT) {
		snap_init_empty(s, alloc, SNAP_CHUNK_SHIFT);
		return -EINVAL;
	}
	snap_init_empty(s, alloc, chunk_shift);
	ret = append(s, buf, len);
	if (ret)
		snap_free(s);
	return ret;
}

int snap_writer_init(struct snap_writer *w, const struct snap_alloc *alloc)
{
	return snap_writer_init_chunked(w, alloc, SNAP_CHUNK_SHIFT);
}

int snap_writer_init_chunked(struct snap_writer *w, const struct snap_alloc *alloc, u32 shift)
{
	static const u8 zero_header[SNAP_HEADER_LEN];

	memset(w, 0, sizeof(*w));
	snap_init_empty(&w->snap, alloc, shift);
	w->section_start = SNAP_NO_SECTION;
	if (shift < 12 || shift > SNAP_CHUNK_SHIFT)
		return w->err = -EINVAL;
	w->err = append(&w->snap, zero_header, sizeof(zero_header));
	if (w->err)
		snap_free(&w->snap);
	return w->err;
}

static void put(struct snap_writer *w, const void *p, u64 n)
{
	if (w->err)
		return;
	if (w->section_start == SNAP_NO_SECTION) {
		w->err = -EINVAL; /* every byte belongs to a section */
		return;
	}
	w->err = append(&w->snap, p, n);
	if (!w->err)
		w->section_crc = crc32_update(w->section_crc, p, n);
}

void snap_put_bytes(struct snap_writer *w, const void *p, size_t n)
{
	put(w, p, n);
}

void snap_put_u8(struct snap_writer *w, u8 v)
{
	put(w, &v, 1);
}

void snap_put_bool(struct snap_writer *w, bool v)
{
	snap_put_u8(w, v ? 1 : 0);
}

void snap_put_u16(struct snap_writer *w, u16 v)
{
	u8 b[2];

	snap_st16(b, v);
	put(w, b, sizeof(b));
}

void snap_put_u32(struct snap_writer *w, u32 v)
{
	u8 b[4];

	snap_st32(b, v);
	put(w, b, sizeof(b));
}

void snap_put_u64(struct snap_writer *w, u64 v)
{
	u8 b[8];

	snap_st64(b, v);
	put(w, b, sizeof(b));
}

static int begin(struct snap_writer *w, u32 type, u32 instance, const char *name)
{
	u8 h[SNAP_SECTION_HEADER_LEN] = { 0 };
	size_t name_len = strlen(name);

	if (w->err)
		return w->err;
	if (w->section_start != SNAP_NO_SECTION || name_len >= SNAP_NAME_LEN ||
	    w->nr_sections >= SNAP_MAX_SECTIONS - 1)
		return w->err = -EINVAL;
	snap_st32(h + SNAP_SH_TYPE, type);
	snap_st32(h + SNAP_SH_INSTANCE, instance);
	snap_st32(h + SNAP_SH_INDEX, w->nr_sections);
	memcpy(h + SNAP_SH_NAME, name, name_len);
	w->section_start = w->snap.len;
	w->section_crc = CRC32_INIT;
	w->err = append(&w->snap, h, sizeof(h));
	return w->err;
}

int snap_section_begin(struct snap_writer *w, u32 type, u32 instance, const char *name)
{
	if (type == SNAP_SEC_END && !w->err)
		return w->err = -EINVAL; /* only finish writes the end section */
	return begin(w, type, instance, name);
}

int snap_section_end(struct snap_writer *w)
{
	u8 h[SNAP_SECTION_HEADER_LEN];
	u64 start = w->section_start;

	if (w->err)
		return w->err;
	if (start == SNAP_NO_SECTION)
		return w->err = -EINVAL;
	snap_st64(h + SNAP_SH_LENGTH, w->snap.len - start - SNAP_SECTION_HEADER_LEN);
	write_at(&w->snap, start + SNAP_SH_LENGTH, h + SNAP_SH_LENGTH, 8);
	snap_read_at(&w->snap, start, h, sizeof(h));
	snap_st32(h + SNAP_SH_CRC, crc32_final(crc32_update(w->section_crc, h, SNAP_SH_CRC)));
	write_at(&w->snap, start + SNAP_SH_CRC, h + SNAP_SH_CRC, 4);
	w->section_start = SNAP_NO_SECTION;
	w->nr_sections++;
	return 0;
}

int snap_writer_error(const struct snap_writer *w)
{
	return w->err;
}

void snap_writer_abort(struct snap_writer *w)
{
	snap_free(&w->snap);
	w->section_start = SNAP_NO_SECTION;
	w->nr_sections = 0;
}

int snap_writer_finish(struct snap_writer *w, struct snapshot *out)
{
	u8 h[SNAP_HEADER_LEN] = { 0 };
	int ret;

	snap_init_empty(out, w->snap.alloc, w->snap.chunk_shift);
	if (!w->err && w->section_start != SNAP_NO_SECTION)
		w->err = -EINVAL;
	if (!w->err)
		begin(w, SNAP_SEC_END, 0, "end");
	if (!w->err)
		snap_section_end(w);
	ret = w->err;
	if (ret) {
		snap_writer_abort(w);
		return ret;
	}
	memcpy(h + SNAP_HDR_MAGIC, SNAP_MAGIC, 8);
	snap_st16(h + SNAP_HDR_VERSION, SNAP_VERSION);
	snap_st16(h + SNAP_HDR_HDRLEN, SNAP_HEADER_LEN);
	snap_st32(h + SNAP_HDR_COUNT, w->nr_sections);
	snap_st64(h + SNAP_HDR_TOTAL, w->snap.len);
	snap_st32(h + SNAP_HDR_FLAGS, 0);
	snap_st32(h + SNAP_HDR_CRC, crc32(h, SNAP_HDR_CRC));
	write_at(&w->snap, 0, h, sizeof(h));
	*out = w->snap;
	snap_init_empty(&w->snap, out->alloc, out->chunk_shift);
	w->nr_sections = 0;
	return 0;
}
