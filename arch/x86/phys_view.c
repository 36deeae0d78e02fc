/* The identity map as a phys_view (arch/x86/phys_view.h). */
#include "arch/x86/phys_view.h"
#include "asm/idmap.h"

static const void *identity_map(void *ctx, u64 pa, u64 len)
{
	/* Physical page 0 is mapped, but its pointer would read as NULL: no table lives there. */
	if (pa == 0 || pa + len < pa || pa + len > idmap_limit())
		return NULL;
	return (const void *)(uintptr_t)pa;
}

const struct phys_view phys_view_identity = { .map = identity_map };
