/*
 * Identity-mapping a physical range with 2 MiB pages in 4-level paging
 * (SDM vol. 3A, "4-Level Paging and 5-Level Paging": PML4E -> PDPTE -> PDE
 * with PS=1 maps a 2 MiB page). Builds on the host: table addresses are used
 * directly as pointers, which the identity map makes true in the hypervisor.
 */
#include "asm/idmap.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_PS BIT(7)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

/* The table an entry points to, allocating it when the entry is empty. */
static u64 *next_table(u64 *entry, u64 (*alloc)(void))
{
	if (!(*entry & PTE_P)) {
		u64 pa = alloc();

		if (!pa)
			return NULL;
		*entry = pa | PTE_P | PTE_RW;
	}
	return (u64 *)(uintptr_t)(*entry & PTE_ADDR_MASK);
}

int idmap_map_2m(u64 *pml4, u64 start, u64 end, u64 (*alloc)(void), u64 *done)
{
	u64 pa = ALIGN_DOWN(start, SZ_2M);

	for (; pa < end; pa += SZ_2M) {
		u64 *pdpt = next_table(&pml4[(pa >> 39) & 511], alloc);
		u64 *pdpte, *pd, *pde;

		if (!pdpt)
			goto nomem;
		pdpte = &pdpt[(pa >> 30) & 511];
		if ((*pdpte & PTE_P) && (*pdpte & PTE_PS))
			continue; /* already a 1 GiB page */
		pd = next_table(pdpte, alloc);
		if (!pd)
			goto nomem;
		pde = &pd[(pa >> 21) & 511];
		if (!(*pde & PTE_P))
			*pde = pa | PTE_P | PTE_RW | PTE_PS;
	}
	*done = pa;
	return 0;
nomem:
	*done = pa;
	return -ENOMEM;
}

/* The PDE mapping pa as a 2 MiB page, or NULL. */
static u64 *pde_2m(u64 *pml4, u64 pa)
{
	u64 e = pml4[(pa >> 39) & 511];
	u64 *t;

	if (!(e & PTE_P))
		return NULL;
	t = (u64 *)(uintptr_t)(e & PTE_ADDR_MASK);
	e = t[(pa >> 30) & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return NULL;
	t = (u64 *)(uintptr_t)(e & PTE_ADDR_MASK);
	e = t[(pa >> 21) & 511];
	if (!(e & PTE_P) || !(e & PTE_PS))
		return NULL;
	return &t[(pa >> 21) & 511];
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
