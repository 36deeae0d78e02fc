/* Extending entry.S's identity map past 4 GiB, for RAM the allocator hands out. */
#include "asm/idmap.h"
#include "asm/cpu.h"
#include "hv/mm.h"

extern u64 boot_pml4[512];

/* entry.S maps [0, 4 GiB). */
static u64 mapped_end = 4ULL << 30;

u64 idmap_limit(void)
{
	return mapped_end;
}

static u64 alloc_table(void)
{
	return page_alloc(1, PAGE_SIZE);
}

/* MAXPHYADDR: CPUID 8000_0008h EAX[7:0] (SDM vol. 3A, "Physical Address Width"). */
static unsigned phys_addr_bits(void)
{
	if (cpuid(0x80000000).eax >= 0x80000008)
		return cpuid(0x80000008).eax & 0xff;
	return 36;
}

int idmap_extend(u64 end)
{
	u64 done;
	int ret = 0;

	end = ALIGN_UP(end, SZ_2M);
	if (end <= mapped_end)
		return 0;
	if (phys_addr_bits() < 64 && end > (1ULL << phys_addr_bits())) {
		end = 1ULL << phys_addr_bits();
		ret = -ERANGE;
	}
	int r = idmap_map_2m(boot_pml4, mapped_end, end, alloc_table, &done);
	if (done > mapped_end)
		mapped_end = done;
	/* Only not-present entries changed, which no TLB caches; reload anyway, it is cheap once. */
	write_cr3(read_cr3());
	return r ? r : ret;
}

int idmap_set_uncached(u64 pa, u64 len)
{
	int ret = idmap_set_uncached_in(boot_pml4, pa, len);

	write_cr3(read_cr3()); /* no global pages: this flushes every translation */
	return ret;
}
