/*
 * Queued invalidation (VT-d spec 6.5.2): a ring of 128-bit descriptors the
 * unit reads from memory, its tail in IQT_REG. Each request here is one
 * invalidation descriptor followed by an invalidation wait descriptor
 * (6.5.2.8) that makes the unit write a sequence number to memory once
 * everything before it is done; the driver polls that word, bounded, and
 * watches FSTS for a queue error (10.4.9: IQE, ICE, ITE).
 */
#include "drivers/iommu_vtd.h"
#include "hv/console.h"
#include "hv/mm.h"

/* 10.4.22-10.4.24: the queue's head, tail and address registers. */
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define IQ_ENTRIES 256 /* IQA.QS = 0: one 4 KiB page of 16-byte descriptors */

#define INV_WAIT 0x5
#define INV_WAIT_SW BIT(5)  /* write the status data to the status address */
#define INV_WAIT_FN BIT(6)  /* fence: later descriptors wait for this one */
#define FSTS_QUEUE_ERRORS (BIT(4) | BIT(5) | BIT(6)) /* IQE, ICE, ITE */

int vtd_qi_enable(struct vtd_unit *u)
{
	u64 pa = page_alloc(1, PAGE_SIZE);
	int err;

	/* The status word on a line of its own, apart from the descriptors. */
	u->iq_status = kzalloc(64);
	if (!pa || !u->iq_status)
		return -ENOMEM;
	u->iq = (u64 *)(uintptr_t)pa;
	u->iq_tail = 0;
	vtd_unit_sync(u, u->iq, PAGE_SIZE);
	vtd_wr64(u, VTD_IQT, 0);
	vtd_wr64(u, VTD_IQA, pa); /* QS = 0, DW = 0: 128-bit descriptors */
	vtd_gcmd(u, VTD_GCMD_QIE, true);
	if ((err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_QIE, VTD_GCMD_QIE, "queued invalidation on")))
		return err;
	return 0;
}

static void put(struct vtd_unit *u, u64 lo, u64 hi)
{
	u64 *d = &u->iq[2 * u->iq_tail];

	d[0] = lo;
	d[1] = hi;
	vtd_unit_sync(u, d, 16);
	/* Never full: each request waits until the unit has done both its descriptors. */
	u->iq_tail = (u->iq_tail + 1) % IQ_ENTRIES;
}

int vtd_qi_submit(struct vtd_unit *u, u64 lo, u64 hi)
{
	u32 seq = ++u->iq_seq;

	*u->iq_status = 0;
	vtd_unit_sync(u, (const void *)u->iq_status, 4);
	put(u, lo, hi);
	put(u, INV_WAIT | INV_WAIT_SW | INV_WAIT_FN | (u64)seq << 32,
	    (u64)(uintptr_t)u->iq_status);
	vtd_wr64(u, VTD_IQT, (u64)u->iq_tail << 4);
	for (unsigned us = 0; us < VTD_WAIT_US; us++) {
		u32 fsts;

		/* The unit writes memory behind the cache when it does not snoop. */
		vtd_unit_sync(u, (const void *)u->iq_status, 4);
		if (*u->iq_status == seq)
			return 0;
		fsts = vtd_rd32(u, VTD_FSTS);
		if (fsts & FSTS_QUEUE_ERRORS) {
			kprintf("iommu: vt-d unit %u: invalidation queue error (FSTS %x, head %lx)\n",
				u->index, fsts, vtd_rd64(u, VTD_IQH));
			vtd_wr32(u, VTD_FSTS, fsts & FSTS_QUEUE_ERRORS);
			return -EIO;
		}
		hw_delay_us(1);
	}
	kprintf("iommu: vt-d unit %u: invalidation queue: no answer in %u ms (head %lx tail %x)\n",
		u->index, VTD_WAIT_US / 1000, vtd_rd64(u, VTD_IQH), u->iq_tail << 4);
	return -ETIMEDOUT;
}
