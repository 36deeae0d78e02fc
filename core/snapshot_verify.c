/*
 * snap_verify: the whole snapshot is checked before any of it is used, so a
 * damaged or truncated one is refused with one line naming the part at fault
 * and nothing else happens (docs/snapshot.md, "Checks a reader makes").
 */
#include "hv/snapshot.h"

#include <stdarg.h>
#include "core/snapshot_layout.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"

/* A message prefix: "header" or "section 3 'vcpu.1'". */
struct where {
	char text[48];
};

static void where_header(struct where *w)
{
	strlcpy(w->text, "header", sizeof(w->text));
}

/* The name as stored may be damaged: only its printable bytes are shown. */
static void where_section(struct where *w, u32 index, const char *name)
{
	char shown[SNAP_NAME_LEN];
	size_t n = 0;

	for (size_t i = 0; name && i < SNAP_NAME_LEN && name[i]; i++)
		if (name[i] > 0x20 && name[i] < 0x7f)
			shown[n++] = name[i];
	shown[n] = '\0';
	if (name)
		fmt_snprintf(w->text, sizeof(w->text), "section %u '%s'", index, shown);
	else
		fmt_snprintf(w->text, sizeof(w->text), "section %u", index);
}

static __printf(4, 5) int refuse(char *err, size_t n, const struct where *w, const char *fmt, ...)
{
	char why[SNAP_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err && n)
		fmt_snprintf(err, n, "snapshot: %s: %s", w->text, why);
	return -EINVAL;
}

/* NUL-terminated within the field, printable before the NUL, zero after
 * it, not empty. */
static bool name_ok(const char *name)
{
	size_t i = 0;

	while (i < SNAP_NAME_LEN && name[i]) {
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			return false;
		i++;
	}
	if (i == 0 || i == SNAP_NAME_LEN)
		return false;
	for (; i < SNAP_NAME_LEN; i++)
		if (name[i])
			return false;
	return true;
}

static int verify_header(const struct snapshot *s, char *err, size_t n, u32 *count, u64 *total)
{
	u8 h[SNAP_HEADER_LEN];
	struct where w;
	u16 version, hdrlen;
	u32 flags;

	where_header(&w);
	if (s->len < SNAP_HEADER_LEN)
		return refuse(err, n, &w, "truncated: %llu bytes, a header alone is %u",
			      (unsigned long long)s->len, SNAP_HEADER_LEN);
	snap_read_at(s, 0, h, sizeof(h));
	if (memcmp(h + SNAP_HDR_MAGIC, SNAP_MAGIC, 8))
		return refuse(err, n, &w, "bad magic: not a utsuwa snapshot");
	version = snap_le16(h + SNAP_HDR_VERSION);
	hdrlen = snap_le16(h + SNAP_HDR_HDRLEN);
	*count = snap_le32(h + SNAP_HDR_COUNT);
	*total = snap_le64(h + SNAP_HDR_TOTAL);
	flags = snap_le32(h + SNAP_HDR_FLAGS);
	if (snap_le32(h + SNAP_HDR_CRC) != crc32(h, SNAP_HDR_CRC))
		return refuse(err, n, &w, "checksum mismatch");
	if (version > SNAP_VERSION)
		return refuse(err, n, &w, "version %u is newer than this reader's %u", version,
			      SNAP_VERSION);
	if (version != SNAP_VERSION)
		return refuse(err, n, &w, "version %u is not known", version);
	if (hdrlen != SNAP_HEADER_LEN)
		return refuse(err, n, &w, "header length %u, version %u has %u", hdrlen, version,
			      SNAP_HEADER_LEN);
	if (flags)
		return refuse(err, n, &w, "unknown flags 0x%x", flags);
	if (*count < 2 || *count > SNAP_MAX_SECTIONS)
		return refuse(err, n, &w, "section count %u (2 to %u)", *count, SNAP_MAX_SECTIONS);
	return 0;
}

/* Section i at off, whose bytes run past the snapshot's end. */
static int refuse_overrun(const struct snapshot *s, char *err, size_t n, const struct where *w,
			  u64 total, const char *what)
{
	if (total > s->len)
		return refuse(err, n, w, "truncated: the snapshot has %llu of its %llu bytes",
			      (unsigned long long)s->len, (unsigned long long)total);
	return refuse(err, n, w, "%s runs past the end of the snapshot", what);
}

int snap_verify(const struct snapshot *s, char *err, size_t n)
{
	u8 raw[SNAP_SECTION_HEADER_LEN];
	struct snap_section_hdr h;
	u32 count = 0, prev_type = 0, prev_instance = 0;
	u64 total = 0, off = SNAP_HEADER_LEN;
	struct where w;
	int ret;

	if (err && n)
		err[0] = '\0';
	ret = verify_header(s, err, n, &count, &total);
	if (ret)
		return ret;
	for (u32 i = 0; i < count; i++) {
		where_section(&w, i, NULL);
		if (snap_section_hdr_at(s, off, &h, raw))
			return refuse_overrun(s, err, n, &w, total, "its header");
		if (!name_ok(h.name))
			return refuse(err, n, &w, "bad name");
		where_section(&w, i, h.name);
		if (h.index != i)
			return refuse(err, n, &w, "out of place: it says it is section %u", h.index);
		if (h.length > s->len - off - SNAP_SECTION_HEADER_LEN)
			return refuse_overrun(s, err, n, &w, total, "its payload");
		if (h.crc != snap_section_crc(s, off + SNAP_SECTION_HEADER_LEN, h.length, raw))
			return refuse(err, n, &w, "checksum mismatch");
		if (i == 0 && h.type != SNAP_SEC_CONFIG)
			return refuse(err, n, &w, "the first section is type %u, not the configuration",
				      h.type);
		if (h.type == SNAP_SEC_END && i != count - 1)
			return refuse(err, n, &w, "the end section comes before the last of %u",
				      count);
		if (h.type != SNAP_SEC_END && i == count - 1)
			return refuse(err, n, &w, "the last section is not the end section");
		if (h.type == SNAP_SEC_END && h.length)
			return refuse(err, n, &w, "the end section is not empty");
		if (i > 0 && h.type != SNAP_SEC_END &&
		    (h.type < prev_type || (h.type == prev_type && h.instance <= prev_instance)))
			return refuse(err, n, &w,
				      "out of order: type %u instance %u after type %u instance %u",
				      h.type, h.instance, prev_type, prev_instance);
		prev_type = h.type;
		prev_instance = h.instance;
		off += SNAP_SECTION_HEADER_LEN + h.length;
	}
	if (off != s->len)
		return refuse(err, n, &w, "followed by %llu stray bytes",
			      (unsigned long long)(s->len - off));
	if (total != s->len) {
		where_header(&w);
		return refuse(err, n, &w, "total length %llu, but the sections end at %llu",
			      (unsigned long long)total, (unsigned long long)off);
	}
	return 0;
}
