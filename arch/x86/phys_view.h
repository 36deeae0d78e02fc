/*
 * Reading firmware and loader structures by physical address. The hypervisor
 * reads them through its identity map (phys_view_identity); host tests hand
 * the same parsers a fake physical memory. Either way every access is
 * bounds-checked: map() returns NULL for a range it cannot provide.
 */
#ifndef ARCH_X86_PHYS_VIEW_H
#define ARCH_X86_PHYS_VIEW_H

#include "hv/types.h"
#include "lib/string.h"

struct phys_view {
	/* A pointer to [pa, pa+len), or NULL when any of it is out of reach. */
	const void *(*map)(void *ctx, u64 pa, u64 len);
	void *ctx;
};

/* The identity map: physical addresses below idmap_limit() are pointers. */
extern const struct phys_view phys_view_identity;

static inline const u8 *phys_get(const struct phys_view *v, u64 pa, u64 len)
{
	if (len == 0 || pa + len < pa)
		return NULL;
	return v->map(v->ctx, pa, len);
}

/* Little-endian loads from byte buffers, safe at any alignment. */
static inline u16 get_le16(const u8 *p) { u16 x; memcpy(&x, p, 2); return x; }
static inline u32 get_le32(const u8 *p) { u32 x; memcpy(&x, p, 4); return x; }
static inline u64 get_le64(const u8 *p) { u64 x; memcpy(&x, p, 8); return x; }

#endif
