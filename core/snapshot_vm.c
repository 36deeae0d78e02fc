/*
 * The configuration and guest-memory sections of a snapshot (payloads in
 * docs/snapshot.md, "SNAP_SEC_CONFIG" and "SNAP_SEC_MEMORY").
 */
#include "hv/snapshot_vm.h"

#include "lib/string.h"

#define SNAP_CONFIG_PAYLOAD_VERSION 1
#define SNAP_MEM_BITMAP_BYTES (SNAP_MEM_PIECE_PAGES / 8)

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

static bool config_ok(const struct snap_vm_config *cfg, size_t name_len, size_t line_len)
{
	return name_len > 0 && name_len < VM_NAME_MAX && printable(cfg->name, name_len) &&
	       cfg->mem_size && IS_ALIGNED(cfg->mem_size, SZ_2M) && cfg->nr_vcpus >= 1 &&
	       cfg->nr_vcpus <= VM_MAX_VCPUS && line_len < SNAP_CONFIG_LINE_MAX &&
	       printable(cfg->line, line_len);
}

int snap_save_config(struct snap_writer *w, const struct snap_vm_config *cfg)
{
	size_t name_len = strnlen(cfg->name, VM_NAME_MAX);
	size_t line_len = strnlen(cfg->line, SNAP_CONFIG_LINE_MAX);

	if (!config_ok(cfg, name_len, line_len))
		return -EINVAL;
	if (snap_section_begin(w, SNAP_SEC_CONFIG, 0, SNAP_CONFIG_NAME))
		return snap_writer_error(w);
	snap_put_u16(w, SNAP_CONFIG_PAYLOAD_VERSION);
	snap_put_u16(w, (u16)name_len);
	snap_put_bytes(w, cfg->name, name_len);
	snap_put_u64(w, cfg->mem_size);
	snap_put_u32(w, cfg->nr_vcpus);
	snap_put_u32(w, (u32)line_len);
	snap_put_bytes(w, cfg->line, line_len);
	return snap_section_end(w);
}

/* Reads n bytes of printable text into dst (NULL: only checks them). */
static void get_text(struct snap_cursor *c, char *dst, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		char ch = (char)snap_get_u8(c);

		if (ch < 0x20 || ch >= 0x7f)
			snap_cursor_fail(c);
		if (dst)
			dst[i] = ch;
	}
}

/* One pass over the payload; cfg NULL only checks. */
static int read_config(struct snap_cursor *c, struct snap_vm_config *cfg)
{
	u32 name_len, line_len, nr_vcpus;
	u64 mem_size;

	if (snap_get_u16(c) != SNAP_CONFIG_PAYLOAD_VERSION)
		return -EINVAL;
	name_len = snap_get_u16(c);
	if (name_len == 0 || name_len >= VM_NAME_MAX)
		return -EINVAL;
	get_text(c, cfg ? cfg->name : NULL, name_len);
	mem_size = snap_get_u64(c);
	nr_vcpus = snap_get_u32(c);
	line_len = snap_get_u32(c);
	if (line_len >= SNAP_CONFIG_LINE_MAX)
		return -EINVAL;
	get_text(c, cfg ? cfg->line : NULL, line_len);
	if (!snap_cursor_done(c) || !mem_size || !IS_ALIGNED(mem_size, SZ_2M) || nr_vcpus < 1 ||
	    nr_vcpus > VM_MAX_VCPUS)
		return -EINVAL;
	if (cfg) {
		cfg->name[name_len] = '\0';
		cfg->line[line_len] = '\0';
		cfg->mem_size = mem_size;
		cfg->nr_vcpus = nr_vcpus;
	}
	return 0;
}

int snap_load_config(const struct snapshot *s, struct snap_vm_config *cfg)
{
	struct snap_cursor c, again;

	if (snap_find(s, SNAP_SEC_CONFIG, 0, &c))
		return -ENOENT;
	again = c;
	if (read_config(&c, NULL))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	return read_config(&again, cfg);
}

static bool page_is_zero(const u8 *p)
{
	const u64 *q = (const u64 *)p;

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (q[i])
			return false;
	return true;
}

int snap_save_ram_piece(struct snap_writer *w, u64 gpa, const void *data, u32 npages)
{
	u8 bitmap[SNAP_MEM_BITMAP_BYTES] = { 0 };
	const u8 *p = data;
	u32 present = 0;

	if (!IS_ALIGNED(gpa, SZ_2M) || npages == 0 || npages > SNAP_MEM_PIECE_PAGES ||
	    (gpa >> SNAP_MEM_PIECE_SHIFT) > 0xffffffffULL)
		return -EINVAL;
	for (u32 i = 0; i < npages; i++) {
		if (!page_is_zero(p + (u64)i * PAGE_SIZE)) {
			bitmap[i / 8] |= (u8)(1u << (i % 8));
			present++;
		}
	}
	if (!present)
		return snap_writer_error(w);
	if (snap_section_begin(w, SNAP_SEC_MEMORY, (u32)(gpa >> SNAP_MEM_PIECE_SHIFT),
			       SNAP_MEMORY_NAME))
		return snap_writer_error(w);
	snap_put_u64(w, gpa);
	snap_put_u32(w, npages);
	snap_put_u32(w, 0);
	snap_put_bytes(w, bitmap, sizeof(bitmap));
	for (u32 i = 0; i < npages; i++)
		if (bitmap[i / 8] & (1u << (i % 8)))
			snap_put_bytes(w, p + (u64)i * PAGE_SIZE, PAGE_SIZE);
	return snap_section_end(w);
}

int snap_load_ram_piece(struct snap_cursor *c, u64 gpa, void *dst, u32 npages)
{
	u8 bitmap[SNAP_MEM_BITMAP_BYTES];
	u8 *p = dst;
	u32 present = 0;

	if (c->type != SNAP_SEC_MEMORY || c->instance != gpa >> SNAP_MEM_PIECE_SHIFT ||
	    npages == 0 || npages > SNAP_MEM_PIECE_PAGES)
		return -EINVAL;
	if (snap_get_u64(c) != gpa || snap_get_u32(c) != npages || snap_get_u32(c) != 0)
		return -EINVAL;
	snap_get_bytes(c, bitmap, sizeof(bitmap));
	if (!snap_cursor_ok(c))
		return -EINVAL;
	for (u32 i = 0; i < SNAP_MEM_PIECE_PAGES; i++) {
		if (!(bitmap[i / 8] & (1u << (i % 8))))
			continue;
		if (i >= npages)
			return -EINVAL; /* a page past the piece */
		present++;
	}
	/* Checked before anything is written: the pages are all there. */
	if (present == 0 || snap_cursor_left(c) != (u64)present * PAGE_SIZE)
		return -EINVAL;
	for (u32 i = 0; i < npages; i++) {
		if (bitmap[i / 8] & (1u << (i % 8)))
			snap_get_bytes(c, p + (u64)i * PAGE_SIZE, PAGE_SIZE);
		else
			memset(p + (u64)i * PAGE_SIZE, 0, PAGE_SIZE);
	}
	return snap_cursor_done(c) ? 0 : -EINVAL;
}
