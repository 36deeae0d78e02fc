/*
 * The I/O and MSR permission maps (APM vol. 2, 15.10.1 and 15.11). One of
 * each serves every guest: every port traps (devices live on the VM's port
 * bus), and every MSR traps except those the VMCB switches by itself.
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/emul/msr.h"
#include "hv/mm.h"
#include "lib/string.h"

u64 svm_iopm_pa, svm_msrpm_pa;

/* The MSRPM covers three ranges of 8192 MSRs, two bits each (read, write). */
static long msrpm_bit(u32 msr)
{
	if (msr < 0x2000)
		return (long)msr * 2;
	if (msr - 0xc0000000u < 0x2000)
		return 0x800 * 8 + (long)(msr - 0xc0000000u) * 2;
	if (msr - 0xc0010000u < 0x2000)
		return 0x1000 * 8 + (long)(msr - 0xc0010000u) * 2;
	return -1; /* outside the map: always intercepted */
}

int svm_maps_init(void)
{
	u8 *msrpm;

	if (svm_iopm_pa)
		return 0;
	/* IOPM: 12 KiB; MSRPM: 8 KiB. Both physically contiguous and aligned. */
	svm_iopm_pa = page_alloc(3, PAGE_SIZE);
	svm_msrpm_pa = page_alloc(2, PAGE_SIZE);
	if (!svm_iopm_pa || !svm_msrpm_pa)
		return -ENOMEM;
	memset((void *)(uintptr_t)svm_iopm_pa, 0xff, 3 * PAGE_SIZE);
	msrpm = (u8 *)(uintptr_t)svm_msrpm_pa;
	memset(msrpm, 0xff, 2 * PAGE_SIZE);
	for (unsigned i = 0; i < nr_msr_passthrough; i++) {
		long bit = msrpm_bit(msr_passthrough[i]);

		if (bit >= 0)
			msrpm[bit / 8] &= (u8) ~(3u << (bit % 8));
	}
	return 0;
}
