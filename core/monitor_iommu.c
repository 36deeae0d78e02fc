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
 * One sector read from the disk straight into a page of the hypervisor's
 * that no domain maps: the IOMMU must refuse the controller's write (a
 * fault, the request failing) and the page must stay as it was.
 */
#define TEST_PAGES (SZ_2M / PAGE_SIZE)

int monitor_cmd_dma_test(const struct monitor_args *a)
{
	struct blockdev *bd = blockdev_find(a->argv[1]);
	struct blk_req *r;
	u8 *page;
	bool untouched = true;
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
	/* A fresh 2 MiB block: no grant ever reached it, so even its directory
	 * entry is absent (QEMU 7.2 logs a fault only there, docs/iommu.md). */
	page = (u8 *)(uintptr_t)page_alloc(TEST_PAGES, SZ_2M);
	if (!r || !page) {
		kfree(r);
		if (page)
			page_free((u64)(uintptr_t)page, TEST_PAGES);
		return -ENOMEM;
	}
	memset(page, 0x5a, PAGE_SIZE);
	*r = (struct blk_req){ .op = BLK_READ, .sector = 0, .nr_sectors = 1, .nr_segs = 1 };
	r->seg[0] = (struct blk_seg){ page, BLK_SECTOR };
	kprintf("dma-test: %s: reading sector 0 into 0x%lx, which no domain maps\n", bd->name,
		(u64)(uintptr_t)page);
	ret = blk_wait_all(bd, &r, 1, 30000);
	if (ret == -ETIMEDOUT)
		return ret; /* the driver may still hold both */
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		untouched &= page[i] == 0x5a;
	kprintf("dma-test: %s: the read %s (%d); the page is %s\n", bd->name,
		ret ? "failed" : "completed", ret, untouched ? "untouched" : "WRITTEN");
	kfree(r);
	page_free((u64)(uintptr_t)page, TEST_PAGES);
	return untouched ? 0 : -EIO;
}
