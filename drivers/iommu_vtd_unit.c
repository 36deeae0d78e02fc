/*
 * One VT-d remapping unit's registers (VT-d spec 10.4): bring-up in the
 * order of 10.4.4 and 6.5 (root table pointer, then global context-cache and
 * IOTLB invalidation, then translation on), invalidation through the queue
 * (6.5.2, drivers/iommu_vtd_qi.c) where ECAP.QI offers it, else through the
 * registers (6.5.1 "Register-based Invalidation Interface"), and the primary fault log
 * (7.2.1 "Primary Fault Logging", 10.4.14). Every wait for the hardware is
 * bounded; a unit that does not answer is reported and left alone.
 */
#include "drivers/iommu_vtd.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "asm/clflush.h"
#include "asm/cpu.h"
#include "asm/idmap.h"
#include "lib/string.h"


u64 vtd_clflush_line = 64;

#define rd32 vtd_rd32
#define wr32 vtd_wr32
#define rd64 vtd_rd64
#define wr64 vtd_wr64

int vtd_wait32(struct vtd_unit *u, unsigned off, u32 mask, u32 want, const char *what)
{
	for (unsigned us = 0; us < VTD_WAIT_US; us++) {
		if ((rd32(u, off) & mask) == want)
			return 0;
		hw_delay_us(1);
	}
	kprintf("iommu: vt-d unit %u: %s: no answer in %u ms (register %x = %x)\n", u->index,
		what, VTD_WAIT_US / 1000, off, rd32(u, off));
	return -ETIMEDOUT;
}

static int wait64_clear(struct vtd_unit *u, unsigned off, u64 bit, u64 *last, const char *what)
{
	for (unsigned us = 0; us < VTD_WAIT_US; us++) {
		*last = rd64(u, off);
		if (!(*last & bit))
			return 0;
		hw_delay_us(1);
	}
	kprintf("iommu: vt-d unit %u: %s: no answer in %u ms\n", u->index, what,
		VTD_WAIT_US / 1000);
	return -ETIMEDOUT;
}

/* 10.4.4: one command bit changed, the enables already on kept on. */
void vtd_gcmd(struct vtd_unit *u, u32 bit, bool on)
{
	u32 sts = rd32(u, VTD_GSTS) & VTD_GSTS_KEEP;

	wr32(u, VTD_GCMD, on ? sts | bit : sts & ~bit);
}

void vtd_clflush(const void *p, u64 len)
{
	clflush_range(p, len, vtd_clflush_line);
}

void vtd_unit_sync(const struct vtd_unit *u, const void *p, u64 len)
{
	if (!VTD_ECAP_C(u->ecap))
		vtd_clflush(p, len);
	else
		hw_mb();
}

int vtd_unit_probe(struct vtd_unit *u, const struct vtd_drhd *drhd, unsigned index)
{
	u64 size = PAGE_SIZE << drhd->reg_pages_log2;
	u32 ver;

	memset(u, 0, sizeof(*u));
	u->index = index;
	u->reg_base = drhd->reg_base;
	u->segment = drhd->segment;
	if ((drhd->reg_base + size > idmap_limit() && idmap_extend(drhd->reg_base + size)) ||
	    idmap_set_uncached(drhd->reg_base, size)) {
		kprintf("iommu: vt-d unit %u: registers at %lx cannot be mapped\n", index,
			drhd->reg_base);
		return -ENODEV;
	}
	u->regs = (volatile u8 *)(uintptr_t)drhd->reg_base;
	ver = rd32(u, VTD_VER);
	u->cap = rd64(u, VTD_CAP);
	u->ecap = rd64(u, VTD_ECAP);
	if (ver == 0xffffffff || u->cap == ~0ULL || !u->cap) {
		kprintf("iommu: vt-d unit %u at %lx: no registers answer\n", index, drhd->reg_base);
		return -ENODEV;
	}
	u->iotlb_off = VTD_ECAP_IRO(u->ecap);
	u->frcd_off = VTD_CAP_FRO(u->cap);
	u->nr_frcd = VTD_CAP_NFR(u->cap);
	if (u->iotlb_off + 16 > size || u->frcd_off + 16 * u->nr_frcd > size) {
		kprintf("iommu: vt-d unit %u: IOTLB (%x) or fault registers (%x, %u) beyond its %lu bytes\n",
			index, u->iotlb_off, u->frcd_off, u->nr_frcd, size);
		return -ENODEV;
	}
	/* CLFLUSH line size: CPUID.01H:EBX[15:8] in 8-byte units. */
	if ((cpuid(1).ebx >> 8) & 0xff)
		vtd_clflush_line = ((cpuid(1).ebx >> 8) & 0xff) * 8;
	kprintf("iommu: vt-d unit %u at %lx: version %u.%u, cap %lx ecap %lx: SAGAW %x MGAW %u, "
		"%u domains, %u fault records, %s, %s%s%s%s\n",
		index, drhd->reg_base, (ver >> 4) & 0xf, ver & 0xf, u->cap, u->ecap,
		VTD_CAP_SAGAW(u->cap), VTD_CAP_MGAW(u->cap), 1u << (4 + 2 * VTD_CAP_ND(u->cap)),
		u->nr_frcd, VTD_ECAP_QI(u->ecap) ? "queued invalidation" : "register invalidation",
		VTD_ECAP_C(u->ecap) ? "coherent" : "not coherent (clflush)",
		VTD_CAP_CM(u->cap) ? ", caching mode" : "", VTD_CAP_RWBF(u->cap) ? ", RWBF" : "",
		VTD_ECAP_IR(u->ecap) ? ", IR (left off)" : "");
	return 0;
}

static int flush_write_buffer(struct vtd_unit *u)
{
	/* 6.8: only units with CAP.RWBF need it before an invalidation. */
	if (!VTD_CAP_RWBF(u->cap))
		return 0;
	vtd_gcmd(u, VTD_GCMD_WBF, true);
	return vtd_wait32(u, VTD_GSTS, VTD_GCMD_WBF, 0, "write buffer flush");
}

int vtd_unit_flush_context(struct vtd_unit *u, bool global, u16 bdf, u16 did)
{
	u64 cmd = VTD_CCMD_ICC | (global ? VTD_CCMD_GLOBAL
					 : VTD_CCMD_DEVICE | VTD_CCMD_SID(bdf) | VTD_CCMD_DID(did));
	u64 v;
	int err;

	if ((err = flush_write_buffer(u)))
		return err;
	if (u->iq) /* 6.5.2.1 context-cache invalidate descriptor: type 1, G in bits 5:4 */
		return vtd_qi_submit(u, 0x1 | (global ? 1ULL << 4
					      : 3ULL << 4 | (u64)did << 16 | (u64)bdf << 32), 0);
	wr64(u, VTD_CCMD, cmd);
	if ((err = wait64_clear(u, VTD_CCMD, VTD_CCMD_ICC, &v, "context-cache invalidation")))
		return err;
	if (!VTD_CCMD_CAIG(v)) {
		kprintf("iommu: vt-d unit %u: context-cache invalidation refused\n", u->index);
		return -EIO;
	}
	return 0;
}

int vtd_unit_flush_iotlb(struct vtd_unit *u, bool global, u16 did)
{
	unsigned off = u->iotlb_off + VTD_IOTLB_REG;
	u64 cmd = VTD_IOTLB_IVT | (global ? VTD_IOTLB_GLOBAL : VTD_IOTLB_DOMAIN | VTD_IOTLB_DID(did));
	u64 v;
	int err;

	/* 6.5.5 "IOTLB Invalidation Considerations": with draining, the DMA
	 * already under way through the old entries completes before the
	 * invalidation does, so none of it lands after unmap returns. */
	if (VTD_CAP_DRD(u->cap))
		cmd |= VTD_IOTLB_DR;
	if (VTD_CAP_DWD(u->cap))
		cmd |= VTD_IOTLB_DW;
	if ((err = flush_write_buffer(u)))
		return err;
	if (u->iq) /* 6.5.2.3 IOTLB invalidate descriptor: type 2, G 5:4, DW 6, DR 7, DID 31:16 */
		return vtd_qi_submit(u, 0x2 | (global ? 1ULL << 4 : 2ULL << 4 | (u64)did << 16) |
					   (cmd & VTD_IOTLB_DW ? BIT(6) : 0) |
					   (cmd & VTD_IOTLB_DR ? BIT(7) : 0), 0);
	wr64(u, off, cmd);
	if ((err = wait64_clear(u, off, VTD_IOTLB_IVT, &v, "IOTLB invalidation")))
		return err;
	if (!VTD_IOTLB_IAIG(v)) {
		kprintf("iommu: vt-d unit %u: IOTLB invalidation refused\n", u->index);
		return -EIO;
	}
	return 0;
}

static void clear_faults(struct vtd_unit *u)
{
	for (unsigned i = 0; i < u->nr_frcd; i++)
		wr32(u, u->frcd_off + 16 * i + 12, VTD_FRCD_F_DWORD);
	wr32(u, VTD_FSTS, rd32(u, VTD_FSTS) & 0x7f); /* PFO, AFO, IQE, ICE, ITE: write 1 to clear */
}

int vtd_unit_enable(struct vtd_unit *u)
{
	u32 sts = rd32(u, VTD_GSTS);
	u64 root_pa;
	int err;

	/* Faults are polled (iommu_poll_faults), not signalled (10.4.10). */
	wr32(u, VTD_FECTL, VTD_FECTL_IM);
	/* A unit firmware or an earlier kernel left running: translation and
	 * queued invalidation off before the root table changes (10.4.4). */
	if (sts & VTD_GCMD_TE) {
		kprintf("iommu: vt-d unit %u: translation was on; turning it off\n", u->index);
		vtd_gcmd(u, VTD_GCMD_TE, false);
		if ((err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_TE, 0, "translation off")))
			return err;
	}
	if (sts & VTD_GCMD_QIE) {
		vtd_gcmd(u, VTD_GCMD_QIE, false);
		if ((err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_QIE, 0, "queued invalidation off")))
			return err;
	}
	if (sts & VTD_GCMD_IRE)
		kprintf("iommu: vt-d unit %u: interrupt remapping was left on by firmware\n",
			u->index);
	clear_faults(u);

	/* 9.1: every root entry not present, so every request is refused
	 * (fault reason 1) until attach gives its bus a context table. */
	root_pa = page_alloc(1, PAGE_SIZE);
	if (!root_pa)
		return -ENOMEM;
	u->root = (struct vtd_root_entry *)(uintptr_t)root_pa;
	vtd_unit_sync(u, u->root, PAGE_SIZE);
	wr64(u, VTD_RTADDR, root_pa); /* TTM = 00: legacy mode (10.4.6) */
	vtd_gcmd(u, VTD_GCMD_SRTP, true);
	if ((err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_SRTP, VTD_GCMD_SRTP, "root table pointer")))
		return err;
	/* 6.5: queued invalidation where the unit has it (required of units
	 * without register-based invalidation), else the registers. */
	if (VTD_ECAP_QI(u->ecap) && (err = vtd_qi_enable(u)))
		return err;
	/* 6.5: after a new root table, global context-cache then IOTLB invalidation. */
	if ((err = vtd_unit_flush_context(u, true, 0, 0)) || (err = vtd_unit_flush_iotlb(u, true, 0)))
		return err;
	vtd_gcmd(u, VTD_GCMD_TE, true);
	if ((err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_TE, VTD_GCMD_TE, "translation on")))
		return err;
	/* 10.4.16: protected memory regions a pre-boot loader set are dropped
	 * once remapping protects memory instead. */
	if ((VTD_CAP_PLMR(u->cap) || VTD_CAP_PHMR(u->cap)) && (rd32(u, VTD_PMEN) & VTD_PMEN_EPM)) {
		wr32(u, VTD_PMEN, 0);
		if ((err = vtd_wait32(u, VTD_PMEN, VTD_PMEN_PRS, 0,
				  "protected memory off")))
			return err;
	}
	return 0;
}

void vtd_unit_disable(struct vtd_unit *u)
{
	vtd_gcmd(u, VTD_GCMD_TE, false);
	vtd_wait32(u, VTD_GSTS, VTD_GCMD_TE, 0, "translation off");
}

bool vtd_unit_fault(struct vtd_unit *u, struct iommu_fault *f)
{
	for (unsigned n = 0; n < u->nr_frcd; n++) {
		unsigned i = (u->next_frcd + n) % u->nr_frcd, off = u->frcd_off + 16 * i;
		u64 hi = rd64(u, off + 8);

		if (!(hi & VTD_FRCD_F))
			continue;
		vtd_frcd_decode(rd64(u, off), hi, f);
		/* 10.4.14: F is write-1-to-clear; the record is free again. */
		wr32(u, off + 12, VTD_FRCD_F_DWORD);
		u->next_frcd = (i + 1) % u->nr_frcd;
		return true;
	}
	if (rd32(u, VTD_FSTS) & VTD_FSTS_PFO) {
		/* 7.2.1: faults arrived while every record was full and were lost. */
		kprintf("iommu: vt-d unit %u: fault records overflowed; some faults were lost\n",
			u->index);
		wr32(u, VTD_FSTS, VTD_FSTS_PFO);
	}
	return false;
}
