/*
 * Reading a snapshot: section headers, finding a section, and the typed
 * getters of a cursor, which never leave their section (docs/snapshot.md).
 * Every read is bounds-checked, so a damaged snapshot cannot make these
 * read outside it even before snap_verify; but only a verified one should
 * be trusted.
 */
#include "hv/snapshot.h"

#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "lib/string.h"

int snap_section_hdr_at(const struct snapshot *s, u64 off, struct snap_section_hdr *h, u8 *raw)
{
	int ret = snap_read_at(s, off, raw, SNAP_SECTION_HEADER_LEN);

	if (ret)
		return ret;
	h->type = snap_le32(raw + SNAP_SH_TYPE);
	h->instance = snap_le32(raw + SNAP_SH_INSTANCE);
	h->length = snap_le64(raw + SNAP_SH_LENGTH);
	h->index = snap_le32(raw + SNAP_SH_INDEX);
	memcpy(h->name, raw + SNAP_SH_NAME, SNAP_NAME_LEN);
	h->crc = snap_le32(raw + SNAP_SH_CRC);
	return 0;
}

u32 snap_section_crc(const struct snapshot *s, u64 off, u64 len, const u8 *raw)
{
	u64 size = 1ULL << s->chunk_shift;
	u32 crc = CRC32_INIT;

	/* The caller checked [off, off + len) lies inside the snapshot. */
	while (len) {
		u64 in = off & (size - 1);
		u64 step = MIN(size - in, len);

		crc = crc32_update(crc, s->chunks[off >> s->chunk_shift] + in, step);
		off += step;
		len -= step;
	}
	return crc32_final(crc32_update(crc, raw, SNAP_SH_CRC));
}

/* A cursor on the section whose header is at off: -ENOENT when there is
 * none that fits (the end of the snapshot, or damage). */
static int cursor_at(const struct snapshot *s, u64 off, struct snap_cursor *c)
{
	u8 raw[SNAP_SECTION_HEADER_LEN];
	struct snap_section_hdr h;
	u64 payload = off + SNAP_SECTION_HEADER_LEN;

	if (snap_section_hdr_at(s, off, &h, raw) || h.length > s->len - payload)
		return -ENOENT;
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->start = c->pos = payload;
	c->end = c->next = payload + h.length;
	c->type = h.type;
	c->instance = h.instance;
	c->index = h.index;
	memcpy(c->name, h.name, SNAP_NAME_LEN);
	c->name[SNAP_NAME_LEN - 1] = '\0';
	return 0;
}

int snap_first(const struct snapshot *s, struct snap_cursor *c)
{
	int ret = cursor_at(s, SNAP_HEADER_LEN, c);

	if (!ret && c->type == SNAP_SEC_END)
		return -ENOENT;
	return ret;
}

int snap_next(struct snap_cursor *c)
{
	struct snap_cursor n;
	int ret = cursor_at(c->s, c->next, &n);

	if (ret || n.type == SNAP_SEC_END)
		return -ENOENT;
	*c = n;
	return 0;
}

int snap_find(const struct snapshot *s, u32 type, u32 instance, struct snap_cursor *c)
{
	struct snap_cursor it;
	int ret;

	for (ret = snap_first(s, &it); !ret; ret = snap_next(&it)) {
		if (it.type == type && it.instance == instance) {
			*c = it;
			return 0;
		}
	}
	return -ENOENT;
}

int snap_find_device(const struct snapshot *s, u32 index, const char *name, struct snap_cursor *c)
{
	struct snap_cursor found;

	if (snap_find(s, SNAP_SEC_DEVICE, index, &found))
		return -ENOENT;
	if (strncmp(found.name, name, SNAP_NAME_LEN))
		return -EINVAL;
	*c = found;
	return 0;
}

void snap_cursor_fail(struct snap_cursor *c)
{
	c->err = -EINVAL;
}

void snap_get_bytes(struct snap_cursor *c, void *dst, size_t n)
{
	if (c->err || n > c->end - c->pos || snap_read_at(c->s, c->pos, dst, n)) {
		c->err = -EINVAL;
		memset(dst, 0, n);
		return;
	}
	c->pos += n;
}

u8 snap_get_u8(struct snap_cursor *c)
{
	u8 b;

	snap_get_bytes(c, &b, 1);
	return b;
}

bool snap_get_bool(struct snap_cursor *c)
{
	u8 b = snap_get_u8(c);

	if (b > 1)
		c->err = -EINVAL;
	return b == 1;
}

u16 snap_get_u16(struct snap_cursor *c)
{
	u8 b[2];

	snap_get_bytes(c, b, sizeof(b));
	return snap_le16(b);
}

u32 snap_get_u32(struct snap_cursor *c)
{
	u8 b[4];

	snap_get_bytes(c, b, sizeof(b));
	return snap_le32(b);
}

u64 snap_get_u64(struct snap_cursor *c)
{
	u8 b[8];

	snap_get_bytes(c, b, sizeof(b));
	return snap_le64(b);
}
