/*
 * The VT-d ops (drivers/iommu_vtd.c, iommu_vtd_unit.c) against a fake
 * remapping unit: a 4 KiB register file in host memory whose command
 * registers act as 10.4 says (GCMD sets GSTS, CCMD and IOTLB clear their
 * busy bit and report the granularity done, FRCD's F is write-1-to-clear).
 * The fake records every invalidation so the tests can check what was sent.
 */
#include "drivers/iommu_vtd.h"
#include "unit.h"
#include "fake_driver_host.h" /* kprintf, kzalloc, page_alloc; leaks by design */
#include "dmar_image.h"
#include "drivers/iommu_vtd_pt.h"
#include "drivers/pci.h"
#include "asm/idmap.h"

/* QEMU 7.2's unit with aw-bits=39 (docs/iommu-vtd.md): fault records at 0x220, IOTLB at 0xf0. */
#define FAKE_CAP 0xd2008c22260206ULL
#define FAKE_ECAP_QI 0xf42ULL /* queued invalidation offered */
#define FAKE_ECAP_REG 0xf40ULL /* registers only */
#define FAKE_IQT 0x88
#define FAKE_IQA 0x90
#define FAKE_IOTLB (0xf0 + 8)
#define FAKE_FRCD 0x220

static u8 *regs;
static bool stuck_rtps;
static u64 ccmds[16], iotlbs[16];
static unsigned nr_ccmds, nr_iotlbs;
static u32 *reg32(unsigned off) { return (u32 *)(regs + off); }
static u64 *reg64(unsigned off) { return (u64 *)(regs + off); }
static u64 fake_ecap = FAKE_ECAP_QI;
static unsigned iq_head, nr_waits;

/* Queued descriptors (6.5.2) recorded in the registers' format, so the
 * tests read the same either way. */
static void run_queue(u32 tail)
{
	u64 *q = (u64 *)(uintptr_t)(*reg64(FAKE_IQA) & ~0xfffULL);

	for (; iq_head != (tail >> 4); iq_head = (iq_head + 1) % 256) {
		u64 lo = q[2 * iq_head], hi = q[2 * iq_head + 1], g = (lo >> 4) & 3;

		switch (lo & 0xf) {
		case 1:
			if (nr_ccmds < 16)
				ccmds[nr_ccmds++] = g << 61 | ((lo >> 32) & 0xffff) << 16 | ((lo >> 16) & 0xffff);
			break;
		case 2:
			if (nr_iotlbs < 16)
				iotlbs[nr_iotlbs++] = g << 60 | ((lo >> 16) & 0xffff) << 32 |
						      (lo & BIT(7) ? VTD_IOTLB_DR : 0) |
						      (lo & BIT(6) ? VTD_IOTLB_DW : 0);
			break;
		case 5:
			nr_waits++;
			if (lo & BIT(5))
				*(u32 *)(uintptr_t)(hi & ~3ULL) = (u32)(lo >> 32);
			break;
		default:
			*reg32(VTD_FSTS) |= BIT(4); /* IQE */
			return;
		}
	}
}


u32 mmio_read32(const volatile void *p) { return *(const volatile u32 *)p; }
u16 mmio_read16(const volatile void *p) { return *(const volatile u16 *)p; }
u8 mmio_read8(const volatile void *p) { return *(const volatile u8 *)p; }
void mmio_write16(volatile void *p, u16 v) { *(volatile u16 *)p = v; }
void mmio_write8(volatile void *p, u8 v) { *(volatile u8 *)p = v; }

void mmio_write32(volatile void *p, u32 v)
{
	unsigned off = (unsigned)((volatile u8 *)p - regs);

	switch (off) {
	case VTD_GCMD: {
		u32 sts = *reg32(VTD_GSTS);

		sts = (sts & ~(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE)) |
		      (v & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE));
		if ((v & VTD_GCMD_SRTP) && !stuck_rtps)
			sts |= VTD_GCMD_SRTP;
		*reg32(VTD_GSTS) = sts;
		return;
	}
	case VTD_CCMD + 4:
		*reg32(off) = v;
		if (v & (1u << 31)) { /* ICC: done, CAIG = CIRG */
			u64 cmd = *reg64(VTD_CCMD);

			if (nr_ccmds < 16)
				ccmds[nr_ccmds++] = cmd;
			*reg64(VTD_CCMD) = (cmd & ~VTD_CCMD_ICC & ~(3ULL << 59)) | ((cmd >> 61) & 3) << 59;
		}
		return;
	case FAKE_IOTLB + 4:
		*reg32(off) = v;
		if (v & (1u << 31)) { /* IVT: done, IAIG = IIRG */
			u64 cmd = *reg64(FAKE_IOTLB);

			if (nr_iotlbs < 16)
				iotlbs[nr_iotlbs++] = cmd;
			*reg64(FAKE_IOTLB) = (cmd & ~VTD_IOTLB_IVT & ~(3ULL << 57)) | ((cmd >> 60) & 3) << 57;
		}
		return;
	case FAKE_IQT:
		*reg32(off) = v;
		run_queue(v);
		return;
	case FAKE_FRCD + 12:
		*reg32(off) &= ~(v & VTD_FRCD_F_DWORD);
		return;
	case VTD_FSTS:
		*reg32(off) &= ~(v & 0x7d);
		return;
	default:
		*reg32(off) = v;
	}
}

/* The identity map reaches everything on the host. */
u64 idmap_limit(void) { return ~0ULL; }
int idmap_extend(u64 end) { return 0; }
int idmap_set_uncached(u64 pa, u64 len) { return 0; }

/* One bus, no bridges. */
struct pci_func *pci_first(void) { return NULL; }
u8 pci_read8(const struct pci_func *f, u16 off) { return 0xff; }

static void fresh_unit(void)
{
	regs = aligned_alloc(4096, 4096);
	memset(regs, 0, 4096);
	*reg32(VTD_VER) = 0x10;
	*reg64(VTD_CAP) = FAKE_CAP;
	*reg64(VTD_ECAP) = fake_ecap;
	nr_ccmds = nr_iotlbs = nr_waits = 0;
	iq_head = 0;
	stuck_rtps = false;
}

static int init_fake(void)
{
	struct dmar_image m;

	/* Host width 48: the host heap's addresses are the "physical" ones. */
	dmar_begin(&m, 48, 0);
	dmar_drhd(&m, (u64)(uintptr_t)regs, 0, true);
	return iommu_vtd_ops.init(m.buf, dmar_end(&m));
}

TEST(a_unit_that_never_answers)
{
	fresh_unit();
	stuck_rtps = true;
	log_lines = 0;
	CHECK_EQ(init_fake(), -ETIMEDOUT);
	CHECK(log_lines > 0);
	CHECK(!(*reg32(VTD_GSTS) & VTD_GCMD_TE));
	CHECK(iommu_vtd_dmar() == NULL);
}

TEST(init_blocks_everything)
{
	struct vtd_root_entry *root;

	fresh_unit();
	*reg32(VTD_GSTS) = VTD_GCMD_TE; /* left on by firmware */
	*reg64(FAKE_FRCD + 8) = VTD_FRCD_F; /* and a stale fault */
	CHECK_EQ(init_fake(), 0);
	CHECK(*reg32(VTD_GSTS) & VTD_GCMD_TE);
	CHECK(*reg32(VTD_FECTL) & VTD_FECTL_IM);
	CHECK(!(*reg64(FAKE_FRCD + 8) & VTD_FRCD_F));
	root = (struct vtd_root_entry *)(uintptr_t)(*reg64(VTD_RTADDR) & ~0xfffULL);
	CHECK(root != NULL);
	for (int i = 0; i < 256; i++)
		CHECK_EQ(root[i].lo & VTD_ROOT_P, 0);
	/* Global context cache, then global IOTLB, with draining. */
	CHECK_EQ(nr_ccmds, 1);
	CHECK_EQ((ccmds[0] >> 61) & 3, 1); /* CIRG 01: global */
	CHECK_EQ(nr_iotlbs, 1);
	CHECK_EQ((iotlbs[0] >> 60) & 3, 1);
	CHECK(iotlbs[0] & VTD_IOTLB_DR);
	CHECK(iotlbs[0] & VTD_IOTLB_DW);
	CHECK(iommu_vtd_dmar() != NULL);
}

TEST(attach_map_unmap_detach)
{
	const struct iommu_ops *ops = &iommu_vtd_ops;
	struct iommu_domain *d;
	struct vtd_root_entry *root;
	struct vtd_context_entry *ctx;
	u16 bdf = PCI_BDF(0, 3, 0);
	u8 *page = aligned_alloc(4096, 4096);

	fresh_unit();
	CHECK_EQ(init_fake(), 0);
	nr_ccmds = nr_iotlbs = 0;
	d = ops->domain_new();
	CHECK(d != NULL);
	CHECK_EQ(ops->map(d, 0x100000, (u64)(uintptr_t)page, 0x1000, IOMMU_READ | IOMMU_WRITE), 0);
	CHECK_EQ(nr_iotlbs, 0); /* not present to present: no flush without CAP.CM */
	CHECK_EQ(ops->map(d, 0x100001, 0, 0x1000, IOMMU_READ), -EINVAL);

	CHECK_EQ(ops->attach(d, bdf), 0);
	root = (struct vtd_root_entry *)(uintptr_t)(*reg64(VTD_RTADDR) & ~0xfffULL);
	CHECK(root[0].lo & VTD_ROOT_P);
	ctx = (struct vtd_context_entry *)(uintptr_t)(root[0].lo & ~0xfffULL);
	CHECK_EQ(ctx[0x18].lo & 0xf, VTD_CTX_P);    /* present, FPD 0, TT 00 */
	CHECK_EQ(ctx[0x18].hi & 7, 1);              /* AW 1: 3 levels, QEMU's 39 bits */
	CHECK(VTD_CTX_DID_OF(ctx[0x18].hi) != 0);
	/* The entry's tables translate the mapped page. */
	struct vtd_pt walk = { .root = ctx[0x18].lo & ~0xfffULL, .levels = 3 };
	CHECK_EQ(vtd_pt_lookup(&walk, 0x100123, NULL), (u64)(uintptr_t)page + 0x123);
	/* The new root entry: a global context-cache invalidation. */
	CHECK_EQ(nr_ccmds, 1);
	CHECK_EQ((ccmds[0] >> 61) & 3, 1);
	/* Another function of bus 0: table exists, no flush needed. */
	CHECK_EQ(ops->attach(d, PCI_BDF(0, 4, 0)), 0);
	CHECK_EQ(nr_ccmds, 1);

	/* unmap: a domain-selective IOTLB invalidation for d's ID. */
	CHECK_EQ(ops->unmap(d, 0x100000, 0x1000), 0);
	CHECK_EQ(nr_iotlbs, 1);
	CHECK_EQ((iotlbs[0] >> 60) & 3, 2);
	CHECK_EQ((u16)(iotlbs[0] >> 32), VTD_CTX_DID_OF(ctx[0x18].hi));

	/* detach: not present, device-selective context flush naming the function. */
	u16 did = VTD_CTX_DID_OF(ctx[0x18].hi);
	CHECK_EQ(ops->attach(NULL, bdf), 0);
	CHECK_EQ(ctx[0x18].lo & VTD_CTX_P, 0);
	CHECK_EQ(nr_ccmds, 2);
	CHECK_EQ((ccmds[1] >> 61) & 3, 3);
	CHECK_EQ((u16)(ccmds[1] >> 16), bdf);
	CHECK_EQ((u16)ccmds[1], did);
	CHECK_EQ(nr_iotlbs, 2);
	/* Detaching a function never attached: nothing to do. */
	CHECK_EQ(ops->attach(NULL, PCI_BDF(5, 0, 0)), 0);
	CHECK_EQ(nr_ccmds, 2);

	/* Freed with a function still attached: refused. */
	ops->domain_free(d);
	CHECK_EQ(ops->attach(NULL, PCI_BDF(0, 4, 0)), 0);
	ops->domain_free(d);
}

TEST(faults_read_and_cleared)
{
	struct iommu_fault f;

	fresh_unit();
	CHECK_EQ(init_fake(), 0);
	CHECK_EQ(iommu_vtd_ops.fault_next(&f), 0);
	/* What QEMU recorded for a blocked NVMe's command fetch. */
	*reg64(FAKE_FRCD) = 0x607000;
	*reg64(FAKE_FRCD + 8) = VTD_FRCD_F | VTD_FRCD_READ | 2ULL << 32 | PCI_BDF(0, 4, 0);
	CHECK_EQ(iommu_vtd_ops.fault_next(&f), 1);
	CHECK_EQ(f.bdf, PCI_BDF(0, 4, 0));
	CHECK_EQ(f.addr, 0x607000);
	CHECK(!f.write);
	CHECK(!strcmp(f.what, "not present (context entry)"));
	CHECK(!(*reg64(FAKE_FRCD + 8) & VTD_FRCD_F));
	CHECK_EQ(iommu_vtd_ops.fault_next(&f), 0);
	/* An overflow is logged and cleared. */
	*reg32(VTD_FSTS) = VTD_FSTS_PFO;
	log_lines = 0;
	CHECK_EQ(iommu_vtd_ops.fault_next(&f), 0);
	CHECK_EQ(log_lines, 1);
	CHECK_EQ(*reg32(VTD_FSTS) & VTD_FSTS_PFO, 0);
}

TEST(queue_used_when_offered)
{
	fresh_unit();
	CHECK_EQ(init_fake(), 0);
	CHECK(*reg32(VTD_GSTS) & VTD_GCMD_QIE);
	CHECK_EQ(nr_waits, 2); /* each invalidation waited for */
	fake_ecap = FAKE_ECAP_REG;
	fresh_unit();
	CHECK_EQ(init_fake(), 0);
	CHECK(!(*reg32(VTD_GSTS) & VTD_GCMD_QIE));
	CHECK_EQ(nr_waits, 0);
	CHECK_EQ(nr_ccmds, 1);
	fake_ecap = FAKE_ECAP_QI;
}

int main(void)
{
	RUN(queue_used_when_offered);
	/* Everything through the queue, then through the registers. */
	for (int pass = 0; pass < 2; pass++) {
		fake_ecap = pass ? FAKE_ECAP_REG : FAKE_ECAP_QI;
		RUN(a_unit_that_never_answers);
		RUN(init_blocks_everything);
		RUN(attach_map_unmap_detach);
		RUN(faults_read_and_cleared);
	}
	return unit_done();
}
