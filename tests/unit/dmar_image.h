/*
 * Hand-built DMAR tables (VT-d spec, chapter 8) for the parser's unit test
 * and the fuzzer's seeds: the header, then structures appended one by one.
 */
#ifndef DMAR_IMAGE_H
#define DMAR_IMAGE_H

#include <string.h>
#include "hv/types.h"

struct dmar_image {
	u8 buf[1024];
	u32 len;
};

static inline void dmar_put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static inline void dmar_put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static inline void dmar_put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

/* The ACPI header and the DMAR fixed part (8.1); haw is the width itself. */
static inline void dmar_begin(struct dmar_image *m, u8 haw, u8 flags)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->buf, "DMAR", 4);
	m->buf[8] = 1;       /* revision */
	memcpy(m->buf + 10, "UTSUWA", 6);
	m->buf[36] = (u8)(haw - 1);
	m->buf[37] = flags;
	m->len = 48;
}

/* Writes the table length and the checksum; returns the length. */
static inline u32 dmar_end(struct dmar_image *m)
{
	u8 sum = 0;

	dmar_put32(m->buf + 4, m->len);
	m->buf[9] = 0;
	for (u32 i = 0; i < m->len; i++)
		sum += m->buf[i];
	m->buf[9] = (u8)-sum;
	return m->len;
}

/* A DRHD (8.3) with no scopes yet; returns its offset for dmar_scope. */
static inline u32 dmar_drhd(struct dmar_image *m, u64 base, u16 seg, bool include_all)
{
	u32 at = m->len;
	u8 *p = m->buf + at;

	dmar_put16(p, 0);
	dmar_put16(p + 2, 16);
	p[4] = include_all ? 1 : 0;
	dmar_put16(p + 6, seg);
	dmar_put64(p + 8, base);
	m->len += 16;
	return at;
}

/* An RMRR (8.4) [base, limit], no scopes yet; returns its offset. */
static inline u32 dmar_rmrr(struct dmar_image *m, u16 seg, u64 base, u64 limit)
{
	u32 at = m->len;
	u8 *p = m->buf + at;

	dmar_put16(p, 1);
	dmar_put16(p + 2, 24);
	dmar_put16(p + 6, seg);
	dmar_put64(p + 8, base);
	dmar_put64(p + 16, limit);
	m->len += 24;
	return at;
}

/* A device scope (8.3.1) of hops (device, function) pairs appended to the structure at at. */
static inline void dmar_scope(struct dmar_image *m, u32 at, u8 type, u8 bus, unsigned hops,
			      const u8 (*path)[2])
{
	u8 *p = m->buf + m->len;
	u16 slen;

	p[0] = type;
	p[1] = (u8)(6 + 2 * hops);
	p[5] = bus;
	for (unsigned i = 0; i < hops; i++) {
		p[6 + 2 * i] = path[i][0];
		p[7 + 2 * i] = path[i][1];
	}
	m->len += 6 + 2 * hops;
	memcpy(&slen, m->buf + at + 2, 2);
	dmar_put16(m->buf + at + 2, (u16)(slen + 6 + 2 * hops));
}

/* The table QEMU 7.2's intel-iommu has q35 publish: one INCLUDE_PCI_ALL unit
 * at 0xfed90000 (with intremap, an I/O APIC scope), 39-bit width. */
static inline u32 dmar_qemu_like(struct dmar_image *m)
{
	static const u8 ioapic[1][2] = { { 0x1f, 0 } };
	u32 u;

	dmar_begin(m, 39, 1);
	u = dmar_drhd(m, 0xfed90000, 0, true);
	dmar_scope(m, u, 3, 0xff, 1, ioapic);
	return dmar_end(m);
}

#endif
