#include "arch/x86/nested_pt.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_PS BIT(7)

const struct pt_format pt_format_npt = {
	PT_SHAPE_4LEVEL,
	.present = PTE_P,
	.ps = PTE_PS,
	.table = PTE_P | PTE_RW | PTE_US,
	.leaf = PTE_P | PTE_RW | PTE_US,
	/* PAT entry 3 (PCD and PWT, PAT bit clear) is UC in the power-on PAT the
	 * host keeps; the nested type combines with the guest's, UC winning
	 * (APM vol. 2, 15.25.8). */
	.leaf_uc = PTE_P | PTE_RW | PTE_US | PTE_PCD | PTE_PWT,
	.large = PTE_P | PTE_RW | PTE_US | PTE_PS,
	.write = PTE_RW,
	.ad = BIT(5) | BIT(6), /* A and D: the nested walk sets them */
	.dirty = BIT(6),
};

#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_MEMTYPE_WB (6ULL << 3)
#define EPT_LARGE BIT(7)
#define EPT_IPAT BIT(6)

const struct pt_format pt_format_ept = {
	PT_SHAPE_4LEVEL,
	/* An entry with none of R, W, X is not present (29.3.2). */
	.present = EPT_R | EPT_W | EPT_X,
	.ps = EPT_LARGE,
	.table = EPT_R | EPT_W | EPT_X,
	.leaf = EPT_R | EPT_W | EPT_X | EPT_MEMTYPE_WB,
	/* Memory type 0 (UC) with the guest's PAT ignored (SDM vol. 3, 29.3.7.2). */
	.leaf_uc = EPT_R | EPT_W | EPT_X | EPT_IPAT,
	.large = EPT_R | EPT_W | EPT_X | EPT_MEMTYPE_WB | EPT_LARGE,
	.write = EPT_W,
	.ad = BIT(8) | BIT(9), /* A and D, set only when the EPTP enables them (29.3.5) */
	.dirty = BIT(9),
};

int nested_pt_init(struct nested_pt *pt, const struct pt_format *fmt, u64 (*alloc_table)(void))
{
	pt->fmt = fmt;
	pt->alloc_table = alloc_table;
	pt->free_table = NULL;
	pt->root = alloc_table();
	return pt->root ? 0 : -ENOMEM;
}

/* The entry for gpa at level (0 = 4 KiB leaf, 1 = 2 MiB), creating tables
 * above it; (u64 *)-1 when a large page already covers it. */
static u64 *walk_create(struct nested_pt *pt, u64 gpa, int level)
{
	int at;
	u64 *e = pt_walk(pt->root, gpa, level, pt->fmt, pt->alloc_table, &at);

	return e && at != level ? (u64 *)-1 : e;
}

int nested_pt_map(struct nested_pt *pt, u64 gpa, u64 hpa, u64 size)
{
	if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || gpa + size > (1ULL << 48) ||
	    hpa + size > (1ULL << 52) || gpa + size < gpa)
		return -EINVAL;

	while (size) {
		bool big = IS_ALIGNED(gpa | hpa, SZ_2M) && size >= SZ_2M;
		int level = big ? 1 : 0;
		u64 *e = walk_create(pt, gpa, level);

		if (!e)
			return -ENOMEM;
		if (e == (u64 *)-1 || (*e & pt->fmt->present))
			return -EEXIST;
		*e = hpa | (big ? pt->fmt->large : pt->fmt->leaf);
		u64 step = big ? SZ_2M : PAGE_SIZE;

		gpa += step;
		hpa += step;
		size -= step;
	}
	return 0;
}

int nested_pt_map_uc(struct nested_pt *pt, u64 gpa, u64 hpa, u64 size)
{
	if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || gpa + size > (1ULL << 48) ||
	    hpa + size > (1ULL << 52) || gpa + size < gpa)
		return -EINVAL;
	for (u64 done = 0; done < size; done += PAGE_SIZE) {
		u64 *e = walk_create(pt, gpa + done, 0);

		if (!e)
			return -ENOMEM;
		if (e == (u64 *)-1 || (*e & pt->fmt->present)) {
			/* All or nothing: clear the leaves set above (their tables exist). */
			for (u64 back = 0; back < done; back += PAGE_SIZE)
				*walk_create(pt, gpa + back, 0) = 0;
			return -EEXIST;
		}
		*e = (hpa + done) | pt->fmt->leaf_uc;
	}
	return 0;
}

u64 nested_pt_lookup(const struct nested_pt *pt, u64 gpa, u64 *page_size)
{
	int at;
	const u64 *e = pt_walk(pt->root, gpa, 0, pt->fmt, NULL, &at);
	u64 sz = at == 2 ? SZ_1G : at == 1 ? SZ_2M : PAGE_SIZE;

	if (!e || !(*e & pt->fmt->present))
		return ~0ULL;
	if (page_size)
		*page_size = sz;
	return (*e & PT_ADDR_MASK & ~(sz - 1)) | (gpa & (sz - 1));
}
