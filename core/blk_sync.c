/* Waiting for block requests at boot (core/blk_sync.h). */
#include "core/blk_sync.h"
#include "drivers/iommu.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "asm/cpu.h"
#include "lib/string.h"

#define BLK_SYNC_TIMEOUT_MS 30000 /* TCG is slow; a real disk answers in ms */

struct waiter {
	u32 left;   /* requests not done yet */
	int status; /* the first error */
};

static void one_done(struct blk_req *r, int status)
{
	struct waiter *w = r->ctx;

	if (status && !w->status)
		w->status = status;
	__atomic_sub_fetch(&w->left, 1, __ATOMIC_RELEASE);
}

int blk_wait_all(struct blockdev *bd, struct blk_req **reqs, unsigned n, u64 timeout_ms)
{
	/* On the heap: after a timeout a late done() may still write it. */
	struct waiter *w = kzalloc(sizeof(*w));
	u64 flags, deadline;
	int ret = 0;

	if (!w)
		return -ENOMEM;
	w->left = n;

	for (unsigned i = 0; i < n; i++) {
		reqs[i]->done = one_done;
		reqs[i]->ctx = w;
		ret = blockdev_submit(bd, reqs[i]);
		if (ret) { /* not queued: done() will not run for this one or the rest */
			__atomic_sub_fetch(&w->left, n - i, __ATOMIC_RELEASE);
			break;
		}
	}
	/* The completion arrives by interrupt, maybe on this CPU: let it in. */
	flags = irq_save();
	irq_enable();
	deadline = rdtsc() + timeout_ms * tsc_khz;
	while (__atomic_load_n(&w->left, __ATOMIC_ACQUIRE)) {
		if (rdtsc() > deadline) {
			irq_restore(flags);
			kprintf("%s: %u request%s not completed after %lu ms\n", bd->name, w->left,
				w->left == 1 ? "" : "s", timeout_ms);
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
	irq_disable();
	irq_restore(flags);
	if (!ret)
		ret = w->status;
	kfree(w);
	return ret;
}

/*
 * With an IOMMU the disk reaches only granted memory, and buf is the
 * caller's (the heap, a stack): the data goes through pages of its own,
 * granted for this request (drivers/iommu.h).
 */
int blk_sync_io(struct blockdev *bd, enum blk_op op, u64 sector, void *buf, u32 nr_sectors)
{
	struct blk_req *r = kzalloc(sizeof(*r));
	u64 bytes = (u64)nr_sectors * BLK_SECTOR, pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
	u8 *bounce = NULL;
	int ret;

	if (!r)
		return -ENOMEM;
	if (op != BLK_FLUSH && iommu_active()) {
		bounce = (u8 *)(uintptr_t)page_alloc(pages, PAGE_SIZE);
		if (!bounce) {
			kfree(r);
			return -ENOMEM;
		}
		iommu_grant_host((u64)(uintptr_t)bounce, pages * PAGE_SIZE,
				 IOMMU_READ | IOMMU_WRITE);
		if (op == BLK_WRITE)
			memcpy(bounce, buf, bytes);
	}
	r->op = op;
	r->sector = sector;
	r->nr_sectors = nr_sectors;
	if (op != BLK_FLUSH) {
		r->nr_segs = 1;
		r->seg[0].buf = bounce ? bounce : buf;
		r->seg[0].len = nr_sectors * BLK_SECTOR;
	}
	ret = blk_wait_all(bd, &r, 1, BLK_SYNC_TIMEOUT_MS);
	if (ret == -ETIMEDOUT)
		return ret; /* the driver may still hold r and the bounce pages */
	kfree(r);
	if (bounce) {
		if (!ret && op == BLK_READ)
			memcpy(buf, bounce, bytes);
		iommu_revoke_host((u64)(uintptr_t)bounce, pages * PAGE_SIZE);
		page_free((u64)(uintptr_t)bounce, pages);
	}
	return ret;
}
