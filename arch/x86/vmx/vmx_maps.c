/*
 * The I/O and MSR bitmaps (SDM vol. 3, 25.6.4 and 25.6.9). One of each
 * serves every guest: every port exits (devices live on the VM's port
 * bus), and every MSR exits except those msr_passthrough[] names, whose
 * guest values the VMCS or the back end's vcpu_load/vcpu_put switch.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/emul/msr.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "asm/cpu.h"
#include "lib/string.h"

u64 vmx_io_bitmap_pa, vmx_msr_bitmap_pa;

/*
 * The MSR bitmap is one page of four 1 KiB maps, one bit per MSR: reads of
 * 0-1FFFh, reads of C0000000h-C0001FFFh, then the same two for writes. An
 * MSR outside both ranges always exits.
 */
#define MSR_BITMAP_WRITE_OFFSET 2048

/* The MSRs whose guest values VT-x switches: SYSENTER_* and the FS/GS bases
 * in the VMCS guest state, the syscall MSRs in vcpu_load/vcpu_put. An MSR
 * added to msr_passthrough[] that is not here keeps exiting. */
static bool vmx_switches(u32 msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SFMASK:
	case MSR_KERNEL_GS_BASE:
		return true;
	}
	return false;
}

static long msr_bitmap_bit(u32 msr)
{
	if (msr < 0x2000)
		return msr;
	if (msr - 0xc0000000u < 0x2000)
		return 1024 * 8 + (long)(msr - 0xc0000000u);
	return -1;
}

int vmx_maps_init(void)
{
	u8 *msr_bitmap;

	if (vmx_io_bitmap_pa)
		return 0;
	/* I/O bitmaps A (ports 0-7FFFh) and B (8000h-FFFFh), one page each,
	 * contiguous here so B is A + 4 KiB. */
	vmx_io_bitmap_pa = page_alloc(2, PAGE_SIZE);
	vmx_msr_bitmap_pa = page_alloc(1, PAGE_SIZE);
	if (!vmx_io_bitmap_pa || !vmx_msr_bitmap_pa)
		return -ENOMEM;
	memset((void *)(uintptr_t)vmx_io_bitmap_pa, 0xff, 2 * PAGE_SIZE);
	msr_bitmap = (u8 *)(uintptr_t)vmx_msr_bitmap_pa;
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < nr_msr_passthrough; i++) {
		long bit = msr_bitmap_bit(msr_passthrough[i]);

		if (bit < 0 || !vmx_switches(msr_passthrough[i])) {
			kprintf("vmx: MSR %x stays intercepted: VT-x does not switch it\n",
				msr_passthrough[i]);
			continue;
		}
		msr_bitmap[bit / 8] &= (u8) ~(1u << (bit % 8));
		msr_bitmap[MSR_BITMAP_WRITE_OFFSET + bit / 8] &= (u8) ~(1u << (bit % 8));
	}
	return 0;
}
