/*
 * The monitor's IOMMU commands (core/monitor_cmds.h): what the IOMMU does,
 * and a test aid that makes one of utsuwa's own disks DMA where it may not.
 */
#include "core/monitor_cmds.h"
#include "core/blk_sync.h"
#include "drivers/iommu.h"
#include "drivers/iommu_amd.h"
#include "hv/blockdev.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

int monitor_cmd_iommu(const struct monitor_args *a)
{
	if (!iommu_active()) {
		kprintf("iommu: none: devices' DMA is unrestricted\n");
		return 0;
	}
	iommu_report();
	kprintf("iommu: %lu DMA faults of utsuwa's own devices since boot\n", iommu_host_faults());
	if (iommu_active() == &iommu_amd_ops)
		amd_iommu_dump();
	return 0;
}

/*
 * One sector read from the disk straight into memory of the hypervisor's.
 * First into a page granted for the occasion: the data must arrive (so what
 * follows shows the IOMMU at work, not a read that never happened). Then
 * into a page no domain maps: the IOMMU must refuse the controller's write
 * (a fault reported) and the page must stay as it was.
 */
#define BLOCK_PAGES (SZ_2M / PAGE_SIZE)

/* Reads sector 0 into page (filled with 0x5a first); whether it changed. */
static int read_into(struct blockdev *bd, struct blk_req *r, u8 *page, bool *written)
{
	int ret;

	memset(page, 0x5a, PAGE_SIZE);
	*r = (struct blk_req){ .op = BLK_READ, .sector = 0, .nr_sectors = 1, .nr_segs = 1 };
	r->seg[0] = (struct blk_seg){ page, BLK_SECTOR };
	ret = blk_wait_all(bd, &r, 1, 30000);
	*written = false;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		*written |= page[i] != 0x5a;
	return ret;
}

int monitor_cmd_dma_test(const struct monitor_args *a)
{
	struct blockdev *bd = blockdev_find(a->argv[1]);
	struct blk_req *r;
	u8 *granted, *stray;
	bool written;
	int ret;

	if (!bd) {
		kprintf("dma-test: no disk %s\n", a->argv[1]);
		return -ENOENT;
	}
	if (!iommu_active()) {
		kprintf("dma-test: no IOMMU: nothing would stop the disk\n");
		return -ENODEV;
	}
	r = kzalloc(sizeof(*r));
	/* Fresh 2 MiB blocks: no grant ever reached the second, so even its
	 * directory entry is absent (QEMU 7.2 signals a fault only there,
	 * docs/iommu.md). */
	granted = (u8 *)(uintptr_t)page_alloc(1, PAGE_SIZE);
	stray = (u8 *)(uintptr_t)page_alloc(BLOCK_PAGES, SZ_2M);
	if (!r || !granted || !stray) {
		kfree(r);
		if (granted)
			page_free((u64)(uintptr_t)granted, 1);
		if (stray)
			page_free((u64)(uintptr_t)stray, BLOCK_PAGES);
		return -ENOMEM;
	}
	iommu_grant_host((u64)(uintptr_t)granted, PAGE_SIZE, IOMMU_WRITE);
	ret = read_into(bd, r, granted, &written);
	if (ret == -ETIMEDOUT)
		return ret; /* the driver may still hold r and the page */
	iommu_revoke_host((u64)(uintptr_t)granted, PAGE_SIZE);
	kprintf("dma-test: %s: sector 0 into granted 0x%lx: %s (%d)\n", bd->name,
		(u64)(uintptr_t)granted, written ? "the data arrived" : "NOTHING ARRIVED", ret);
	page_free((u64)(uintptr_t)granted, 1);

	kprintf("dma-test: %s: reading sector 0 into 0x%lx, which no domain maps\n", bd->name,
		(u64)(uintptr_t)stray);
	ret = read_into(bd, r, stray, &written);
	if (ret == -ETIMEDOUT)
		return ret;
	kprintf("dma-test: %s: the read %s (%d); the page is %s\n", bd->name,
		ret ? "failed" : "completed", ret, written ? "WRITTEN" : "untouched");
	kfree(r);
	page_free((u64)(uintptr_t)stray, BLOCK_PAGES);
	return written ? -EIO : 0;
}
