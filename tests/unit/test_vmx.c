/*
 * The VT-x back end's encodings on the host: segment access rights, control
 * MSR adjustment, CR0/CR4 fixed bits, the EPT entry format through the
 * nested page-table builder (the MSR and I/O bitmaps: test_intercept.c).
 */
#include "unit.h"
#include <string.h>
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/nested_pt.h"
#include "arch/x86/emul/msr.h"
#include "hv/guest_ctx.h"
#include "hv/mm.h"

/* The tables and bitmaps are left allocated at exit on purpose. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

/* Fakes of what the sources use: zeroed pages, the console. */
static int kprintf_calls;
void kprintf(const char *fmt, ...)
{
	(void)fmt;
	kprintf_calls++;
}

u64 page_alloc(u64 npages, u64 align)
{
	void *p = aligned_alloc(align, npages * 4096);

	memset(p, 0, npages * 4096);
	return (u64)(uintptr_t)p;
}


TEST(access_rights_from_attributes)
{
	CHECK_EQ(vmx_ar_from_attr(0x09b), 0x09b);   /* real-mode code */
	CHECK_EQ(vmx_ar_from_attr(0xc93), 0xc093);  /* flat data: D/B, G -> bits 14, 15 */
	CHECK_EQ(vmx_ar_from_attr(0xa9b), 0xa09b);  /* 64-bit code: L -> bit 13 */
	CHECK_EQ(vmx_ar_from_attr(0x08b), 0x08b);   /* busy TSS */
	CHECK_EQ(vmx_ar_from_attr(0x082), 0x082);   /* LDT */
	CHECK_EQ(vmx_ar_from_attr(0), VMX_AR_UNUSABLE);
	CHECK_EQ(vmx_ar_from_attr(0x013), VMX_AR_UNUSABLE); /* not present */
}

TEST(attributes_from_access_rights)
{
	CHECK_EQ(vmx_attr_from_ar(0xa09b), 0xa9b);
	CHECK_EQ(vmx_attr_from_ar(0xc093), 0xc93);
	CHECK_EQ(vmx_attr_from_ar(VMX_AR_UNUSABLE | 0xc093), 0);
	/* Reserved access-rights bits 8-11 do not leak into the attributes. */
	CHECK_EQ(vmx_attr_from_ar(0xf09b), 0xf9b);
	for (u32 attr = 0; attr < 0x1000; attr++)
		if (attr & SEG_ATTR_P)
			CHECK_EQ(vmx_attr_from_ar(vmx_ar_from_attr((u16)attr)), attr);
}

TEST(control_adjustment)
{
	u32 missing = 0;
	/* Must be 1: bits 1, 2, 4; may be 1: bits 0-7. */
	u64 cap = 0x16 | (0xffULL << 32);

	CHECK_EQ(vmx_ctls_adjust(cap, BIT(0), BIT(8), &missing), 0x17);
	CHECK_EQ(missing, 0);
	CHECK_EQ(vmx_ctls_adjust(cap, BIT(0) | BIT(9), 0, &missing), 0x17);
	CHECK_EQ(missing, BIT(9));
	/* An optional control the CPU lacks is simply left out. */
	CHECK_EQ(vmx_ctls_adjust(cap, 0, BIT(6) | BIT(20), &missing), 0x56);
	CHECK_EQ(missing, 0);
}

TEST(cr_fixed_bits)
{
	/* Typical IA32_VMX_CR0_FIXED0/1 and CR4_FIXED0/1. */
	u64 cr0_f0 = 0x80000021, cr0_f1 = 0xffffffff, cr4_f0 = 0x2000, cr4_f1 = 0x3727ff;

	/* Real mode for an unrestricted guest: PE and PG stay clear, NE is forced. */
	CHECK_EQ(vmx_cr_fixed(CR0_ET, cr0_f0, cr0_f1, CR0_PE | CR0_PG), CR0_ET | CR0_NE);
	/* The host (no free bits) gets PE, NE and PG. */
	CHECK_EQ(vmx_cr_fixed(CR0_ET, cr0_f0, cr0_f1, 0), 0x80000031);
	CHECK_EQ(vmx_cr_fixed(CR4_PAE, cr4_f0, cr4_f1, 0), CR4_PAE | CR4_VMXE);
	CHECK_EQ(vmx_cr_fixed(CR4_PAE | CR4_LA57, cr4_f0, cr4_f1, 0), CR4_PAE | CR4_VMXE);
	/* What the read shadows hide: CR0.NE; CR4.VMXE and what the CPU lacks. */
	CHECK_EQ(vmx_cr_forced(cr0_f0, cr0_f1, CR0_PE | CR0_PG), CR0_NE);
	CHECK_EQ(vmx_cr_forced(cr4_f0, cr4_f1, 0), (0xffffffffULL & ~cr4_f1) | CR4_VMXE);
	/* The CR4 mask also owns every bit of a feature CPUID may hide, so
	 * setting OSXSAVE or PKE exits to the core's check; PGE, PAE and the
	 * other original bits stay the guest's. */
	CHECK(vmx_cr4_mask(cr4_f0, cr4_f1) & CR4_OSXSAVE);
	CHECK(vmx_cr4_mask(cr4_f0, cr4_f1) & CR4_PKE);
	CHECK(vmx_cr4_mask(cr4_f0, cr4_f1) & CR4_VMXE);
	CHECK_EQ(vmx_cr4_mask(cr4_f0, cr4_f1) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_OSFXSR), 0);
}

static u64 table_alloc(void)
{
	return page_alloc(1, 4096);
}

TEST(ept_entries)
{
	struct nested_pt pt;
	u64 sz = 0;

	CHECK_EQ(nested_pt_init(&pt, &pt_format_ept, table_alloc), 0);
	CHECK_EQ(nested_pt_map(&pt, 0, 0x40000000, 4 << 20), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x400000, 0x40401000, 0x2000), 0);
	u64 *pml4 = (u64 *)(uintptr_t)pt.root;
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & PT_ADDR_MASK);
	u64 *pd = (u64 *)(uintptr_t)(pdpt[0] & PT_ADDR_MASK);
	u64 *ptab = (u64 *)(uintptr_t)(pd[2] & PT_ADDR_MASK);
	/* Tables: R, W, X and nothing else (bits 3-7 reserved, 29.3.2). */
	CHECK_EQ(pml4[0] & 0xfff, 0x7);
	CHECK_EQ(pdpt[0] & 0xfff, 0x7);
	CHECK_EQ(pd[2] & 0xfff, 0x7);
	/* 2 MiB leaves: RWX, memory type WB (6 << 3), bit 7. */
	CHECK_EQ(pd[1], 0x40200000 | 0xb7);
	/* 4 KiB leaves: RWX, WB. */
	CHECK_EQ(ptab[1], 0x40402000 | 0x37);
	CHECK_EQ(nested_pt_lookup(&pt, 0x123456, &sz), 0x40123456);
	CHECK_EQ(sz, SZ_2M);
	CHECK_EQ(nested_pt_lookup(&pt, 0x401234, &sz), 0x40402234);
	CHECK_EQ(sz, PAGE_SIZE);
	CHECK_EQ(nested_pt_lookup(&pt, 0x402000, NULL), ~0ULL);
	/* A 2 MiB leaf cannot be split by a later 4 KiB mapping. */
	CHECK_EQ(nested_pt_map(&pt, 0x201000, 0x50000000, 0x1000), -EEXIST);
}

int main(void)
{
	RUN(access_rights_from_attributes);
	RUN(attributes_from_access_rights);
	RUN(control_adjustment);
	RUN(cr_fixed_bits);
	RUN(ept_entries);
	return unit_done();
}
