/*
 * Identity-mapping a physical range with 2 MiB pages in 4-level paging
 * (SDM vol. 3A, "4-Level Paging and 5-Level Paging": PML4E -> PDPTE -> PDE
 * with PS=1 maps a 2 MiB page), through the walker shared with the nested
 * tables (arch/x86/pt_walk.h). Builds on the host: table addresses are used
 * directly as pointers, which the identity map makes true in the hypervisor.
 */
#include "asm/idmap.h"
#include "arch/x86/pt_walk.h"

#define PTE_P BIT(0)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)

int idmap_map_2m(u64 *pml4, u64 start, u64 end, u64 (*alloc)(void), u64 *done)
{
	const struct pt_format *f = &pt_format_host;
	u64 pa = ALIGN_DOWN(start, SZ_2M);

	for (; pa < end; pa += SZ_2M) {
		int at;
		u64 *pde = pt_walk((u64)(uintptr_t)pml4, pa, 1, f, alloc, &at);

		if (!pde) {
			*done = pa;
			return -ENOMEM;
		}
		if (at == 1 && !(*pde & PTE_P)) /* at 2: already a 1 GiB page */
			*pde = pa | f->large;
	}
	*done = pa;
	return 0;
}

/* The PDE mapping pa as a 2 MiB page, or NULL. */
static u64 *pde_2m(u64 *pml4, u64 pa)
{
	int at;
	u64 *pde = pt_walk((u64)(uintptr_t)pml4, pa, 1, &pt_format_host, NULL, &at);

	return pde && at == 1 && pt_is_large(&pt_format_host, *pde) ? pde : NULL;
}

int idmap_set_uncached_in(u64 *pml4, u64 pa, u64 len)
{
	u64 end = pa + len;

	if (end < pa)
		return -EINVAL;
	for (u64 p = ALIGN_DOWN(pa, SZ_2M); p < end; p += SZ_2M) {
		u64 *pde = pde_2m(pml4, p);

		if (!pde)
			return -EINVAL;
		*pde |= PTE_PCD | PTE_PWT;
	}
	return 0;
}
