/*
 * The DMAR table (VT-d spec, chapter 8). Each structure's type and length
 * are read from the table and checked against what is left of it before any
 * field is believed; a length that does not fit ends the parse, since the
 * walk cannot find the next structure without it.
 */
#include "drivers/iommu_vtd_dmar.h"
#include "lib/format.h"
#include "lib/string.h"

/* 8.1 "DMA Remapping Reporting Structure": the ACPI header (36 bytes), Host
 * Address Width, Flags, 10 reserved bytes, then remapping structures. */
#define DMAR_HDR_LEN 36
#define DMAR_HAW 36
#define DMAR_FLAGS 37
#define DMAR_STRUCTS 48

/* 8.2 "Remapping Structure Types": each begins with Type (2 bytes), Length (2 bytes). */
#define DMAR_TYPE_DRHD 0
#define DMAR_TYPE_RMRR 1

/* 8.3 DRHD: Flags (byte 4), Size (5), Segment (6), Register Base Address (8), scopes (16). */
#define DRHD_FLAGS 4
#define DRHD_SIZE 5
#define DRHD_SEGMENT 6
#define DRHD_BASE 8
#define DRHD_SCOPES 16
#define DRHD_INCLUDE_PCI_ALL BIT(0)

/* 8.4 RMRR: Reserved (4), Segment (6), Base (8), Limit (16), scopes (24). */
#define RMRR_SEGMENT 6
#define RMRR_BASE 8
#define RMRR_LIMIT 16
#define RMRR_SCOPES 24

/* 8.3.1 Device Scope: Type, Length, Reserved (2), Enumeration ID, Start Bus,
 * then Path: (device, function) byte pairs, Length = 6 + 2 * hops. */
#define SCOPE_HDR 6

static u16 rd16(const u8 *p) { u16 x; memcpy(&x, p, 2); return x; }
static u64 rd64(const u8 *p) { u64 x; memcpy(&x, p, 8); return x; }

static void say(vtd_report_fn report, void *ctx, const char *fmt, ...) __printf(3, 4);
static void say(vtd_report_fn report, void *ctx, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report(ctx, buf);
}

/* The scopes in p[0, len) into out[0, max); returns the count kept, or -EINVAL. */
static int parse_scopes(const u8 *p, u32 len, struct vtd_scope *out, unsigned max,
			unsigned *nr, vtd_report_fn report, void *ctx)
{
	u32 off = 0;

	*nr = 0;
	while (off < len) {
		u32 left = len - off;
		u8 slen;
		unsigned hops;
		struct vtd_scope *s;

		if (left < SCOPE_HDR || (slen = p[off + 1]) < SCOPE_HDR + 2 || slen > left ||
		    (slen - SCOPE_HDR) % 2) {
			say(report, ctx, "dmar: device scope at +%u: bad length", off);
			return -EINVAL;
		}
		hops = (slen - SCOPE_HDR) / 2;
		if (*nr == max || hops > VTD_SCOPE_PATH) {
			say(report, ctx, "dmar: device scope at +%u (type %u, %u hops) dropped", off,
			    p[off], hops);
			off += slen;
			continue;
		}
		s = &out[(*nr)++];
		memset(s, 0, sizeof(*s));
		s->type = p[off];
		s->enum_id = p[off + 4];
		s->start_bus = p[off + 5];
		s->path_len = (u8)hops;
		for (unsigned i = 0; i < hops; i++) {
			s->path[i][0] = p[off + SCOPE_HDR + 2 * i];
			s->path[i][1] = p[off + SCOPE_HDR + 2 * i + 1];
		}
		off += slen;
	}
	return 0;
}

static int parse_drhd(const u8 *p, u16 len, struct vtd_dmar *out, vtd_report_fn report,
		      void *ctx)
{
	struct vtd_drhd *u;

	if (len < DRHD_SCOPES) {
		say(report, ctx, "dmar: DRHD of %u bytes (at least %u)", len, DRHD_SCOPES);
		return -EINVAL;
	}
	if (out->nr_drhds == VTD_MAX_UNITS) {
		say(report, ctx, "dmar: more than %u remapping units", VTD_MAX_UNITS);
		return -ENOSPC;
	}
	u = &out->drhd[out->nr_drhds];
	memset(u, 0, sizeof(*u));
	u->include_all = p[DRHD_FLAGS] & DRHD_INCLUDE_PCI_ALL;
	u->reg_pages_log2 = p[DRHD_SIZE] & 0xf;
	u->segment = rd16(p + DRHD_SEGMENT);
	u->reg_base = rd64(p + DRHD_BASE);
	if (!u->reg_base || !IS_ALIGNED(u->reg_base, PAGE_SIZE)) {
		say(report, ctx, "dmar: DRHD register base %llx not a 4 KiB page",
		    (unsigned long long)u->reg_base);
		return -EINVAL;
	}
	if (parse_scopes(p + DRHD_SCOPES, len - DRHD_SCOPES, u->scopes, VTD_UNIT_SCOPES,
			 &u->nr_scopes, report, ctx))
		return -EINVAL;
	out->nr_drhds++;
	return 0;
}

static int parse_rmrr(const u8 *p, u16 len, struct vtd_dmar *out, vtd_report_fn report,
		      void *ctx)
{
	struct vtd_rmrr r;

	if (len < RMRR_SCOPES) {
		say(report, ctx, "dmar: RMRR of %u bytes (at least %u)", len, RMRR_SCOPES);
		return -EINVAL;
	}
	memset(&r, 0, sizeof(r));
	r.segment = rd16(p + RMRR_SEGMENT);
	r.base = rd64(p + RMRR_BASE);
	r.limit = rd64(p + RMRR_LIMIT);
	/* 8.4: base 4 KiB aligned, limit + 1 4 KiB aligned. */
	if (r.limit < r.base || !IS_ALIGNED(r.base, PAGE_SIZE) || !IS_ALIGNED(r.limit + 1, PAGE_SIZE)) {
		say(report, ctx, "dmar: RMRR [%llx, %llx] malformed", (unsigned long long)r.base,
		    (unsigned long long)r.limit);
		return -EINVAL;
	}
	if (parse_scopes(p + RMRR_SCOPES, len - RMRR_SCOPES, r.scopes, VTD_RMRR_SCOPES,
			 &r.nr_scopes, report, ctx))
		return -EINVAL;
	if (out->nr_rmrrs == VTD_MAX_RMRRS) {
		say(report, ctx, "dmar: RMRR [%llx, %llx] beyond the first %u dropped",
		    (unsigned long long)r.base, (unsigned long long)r.limit, VTD_MAX_RMRRS);
		return 0;
	}
	out->rmrr[out->nr_rmrrs++] = r;
	return 0;
}

int vtd_dmar_parse(const u8 *table, u32 len, struct vtd_dmar *out, vtd_report_fn report,
		   void *ctx)
{
	u32 tlen, off;
	int err;

	memset(out, 0, sizeof(*out));
	if (!table || len < DMAR_STRUCTS || memcmp(table, "DMAR", 4)) {
		say(report, ctx, "dmar: no DMAR header in %u bytes", len);
		return -EINVAL;
	}
	memcpy(&tlen, table + 4, 4);
	if (tlen < DMAR_STRUCTS || tlen > len) {
		say(report, ctx, "dmar: table length %u (have %u)", tlen, len);
		return -EINVAL;
	}
	/* 8.1: the width is encoded as N - 1. */
	out->haw = (u8)(table[DMAR_HAW] + 1);
	out->flags = table[DMAR_FLAGS];
	if (out->haw < 32 || out->haw > 64) {
		say(report, ctx, "dmar: host address width %u", out->haw);
		return -EINVAL;
	}
	for (off = DMAR_STRUCTS; off < tlen;) {
		u32 left = tlen - off;
		u16 type, slen;

		if (left < 4) {
			say(report, ctx, "dmar: %u stray bytes at the end", left);
			return -EINVAL;
		}
		type = rd16(table + off);
		slen = rd16(table + off + 2);
		if (slen < 4 || slen > left) {
			say(report, ctx, "dmar: structure type %u at +%u: length %u (%u left)", type,
			    off, slen, left);
			return -EINVAL;
		}
		if (type == DMAR_TYPE_DRHD)
			err = parse_drhd(table + off, slen, out, report, ctx);
		else if (type == DMAR_TYPE_RMRR)
			err = parse_rmrr(table + off, slen, out, report, ctx);
		else {
			out->nr_other++;
			err = 0;
		}
		if (err)
			return err;
		off += slen;
	}
	if (!out->nr_drhds) {
		say(report, ctx, "dmar: no remapping unit (DRHD)");
		return -EINVAL;
	}
	return 0;
}

/* Follows s's path: the bus, device, function it ends at, through each bridge's secondary bus. */
static bool scope_target(const struct vtd_scope *s, vtd_bridge_fn bridge, void *ctx, u16 *bdf)
{
	u8 bus = s->start_bus, sec, sub;

	if (!s->path_len)
		return false;
	for (unsigned i = 0;; i++) {
		u16 here = (u16)(bus << 8 | (s->path[i][0] & 0x1f) << 3 | (s->path[i][1] & 7));

		if (s->path[i][0] > 0x1f || s->path[i][1] > 7)
			return false;
		if (i + 1 == s->path_len) {
			*bdf = here;
			return true;
		}
		if (!bridge || !bridge(ctx, here, &sec, &sub))
			return false;
		bus = sec;
	}
}

bool vtd_scope_covers(const struct vtd_scope *s, u16 bdf, vtd_bridge_fn bridge, void *ctx)
{
	u16 target;
	u8 sec, sub;

	if (!scope_target(s, bridge, ctx, &target))
		return false;
	if (s->type == VTD_SCOPE_ENDPOINT)
		return bdf == target;
	if (s->type != VTD_SCOPE_BRIDGE)
		return false;
	if (bdf == target)
		return true;
	return bridge && bridge(ctx, target, &sec, &sub) && sec <= sub && (bdf >> 8) >= sec &&
	       (bdf >> 8) <= sub;
}

int vtd_dmar_unit_for(const struct vtd_dmar *d, u16 seg, u16 bdf, vtd_bridge_fn bridge,
		      void *ctx)
{
	int all = -1;

	for (unsigned i = 0; i < d->nr_drhds; i++) {
		const struct vtd_drhd *u = &d->drhd[i];

		if (u->segment != seg)
			continue;
		if (u->include_all) {
			all = (int)i;
			continue;
		}
		for (unsigned j = 0; j < u->nr_scopes; j++)
			if (vtd_scope_covers(&u->scopes[j], bdf, bridge, ctx))
				return (int)i;
	}
	return all;
}
