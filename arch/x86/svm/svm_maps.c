/*
 * A VM's I/O and MSR permission maps (APM vol. 2, 15.10.1 "I/O Permissions
 * Map" and 15.11 "MSR Intercepts"), built from its vendor-neutral intercept
 * policy (hv/intercept.h) when the VM is set up, one pair per VM.
 */
#include "arch/x86/svm/svm.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "lib/string.h"

/*
 * The IOPM: one bit per port, 12 KiB. An access of n bytes at port p checks
 * the bits of p to p+n-1, so the bits past 0xffff (the third page) decide
 * for accesses that run past the last port: they always exit.
 */
void svm_iopm_fill(u8 *iopm, const struct intercept_policy *p)
{
	memcpy(iopm, p->io, sizeof(p->io));
	memset(iopm + sizeof(p->io), 0xff, SVM_IOPM_SIZE - sizeof(p->io));
}

/*
 * The MSRPM: three vectors of 2 KiB, for MSRs 0-1FFFh at offset 0,
 * C0000000h-C0001FFFh at 800h and C0010000h-C0011FFFh at 1000h; in each,
 * two bits per MSR, the read intercept then the write intercept. The rest
 * of the 8 KiB is reserved: all ones. An MSR outside the vectors always
 * exits.
 */
long svm_msrpm_bit(u32 msr, bool write)
{
	unsigned range, index;

	if (!intercept_msr_slot(msr, &range, &index))
		return -1;
	return (long)range * 0x800 * 8 + (long)index * 2 + write;
}

void svm_msrpm_fill(u8 *msrpm, const struct intercept_policy *p)
{
	memset(msrpm, 0xff, SVM_MSRPM_SIZE);
	for (unsigned r = 0; r < INTERCEPT_NR_MSR_RANGES; r++) {
		for (unsigned i = 0; i < INTERCEPT_MSR_RANGE_LEN; i++) {
			u32 msr = intercept_msr_range_base[r] + i;

			for (int w = 0; w < 2; w++) {
				long bit = svm_msrpm_bit(msr, w);

				if (!intercept_msr(p, msr, w))
					msrpm[bit / 8] &= (u8) ~(1u << (bit % 8));
			}
		}
	}
}

int svm_vm_maps_build(struct vm *vm)
{
	struct svm_vm *s = &vm->arch.svm;

	/* Both physically contiguous and page-aligned (15.10.1, 15.11). */
	s->iopm_pa = page_alloc(SVM_IOPM_SIZE / PAGE_SIZE, PAGE_SIZE);
	s->msrpm_pa = page_alloc(SVM_MSRPM_SIZE / PAGE_SIZE, PAGE_SIZE);
	if (!s->iopm_pa || !s->msrpm_pa) {
		svm_vm_maps_free(vm);
		return -ENOMEM;
	}
	svm_iopm_fill((u8 *)(uintptr_t)s->iopm_pa, vm->intercepts);
	svm_msrpm_fill((u8 *)(uintptr_t)s->msrpm_pa, vm->intercepts);
	return 0;
}

void svm_vm_maps_free(struct vm *vm)
{
	struct svm_vm *s = &vm->arch.svm;

	if (s->iopm_pa)
		page_free(s->iopm_pa, SVM_IOPM_SIZE / PAGE_SIZE);
	if (s->msrpm_pa)
		page_free(s->msrpm_pa, SVM_MSRPM_SIZE / PAGE_SIZE);
	s->iopm_pa = s->msrpm_pa = 0;
}
