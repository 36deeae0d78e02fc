/*
 * A VM's I/O and MSR bitmaps (SDM vol. 3, 25.6.4 and 25.6.9), built from its
 * vendor-neutral intercept policy (hv/intercept.h) when the VM is set up,
 * one set per VM. An MSR the policy passes but VT-x does not switch keeps
 * exiting: its guest value would otherwise be the host's.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/emul/msr.h"
#include "hv/console.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "lib/string.h"

/* The MSRs whose guest values VT-x switches: SYSENTER_* and the FS/GS bases
 * in the VMCS guest state, the syscall MSRs in vcpu_load/vcpu_put. */
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

/*
 * The MSR bitmap is one page of four 1 KiB maps, one bit per MSR: reads of
 * 0-1FFFh, reads of C0000000h-C0001FFFh, then the same two for writes. An
 * MSR outside both ranges (C0010000h and up included) always exits.
 */
long vmx_msr_bitmap_bit(u32 msr, bool write)
{
	unsigned range, index;

	if (!intercept_msr_slot(msr, &range, &index) || range > 1)
		return -1;
	return (write ? 2048 * 8 : 0) + (long)range * 1024 * 8 + index;
}

/* Returns how many MSRs the policy passes that stay intercepted here. */
unsigned vmx_msr_bitmap_fill(u8 *bitmap, const struct intercept_policy *p)
{
	unsigned refused = 0;

	memset(bitmap, 0xff, PAGE_SIZE);
	for (unsigned r = 0; r < INTERCEPT_NR_MSR_RANGES; r++) {
		for (unsigned i = 0; i < INTERCEPT_MSR_RANGE_LEN; i++) {
			u32 msr = intercept_msr_range_base[r] + i;

			for (int w = 0; w < 2; w++) {
				long bit = vmx_msr_bitmap_bit(msr, w);

				if (intercept_msr(p, msr, w))
					continue;
				if (bit < 0 || !vmx_switches(msr)) {
					refused++;
					continue;
				}
				bitmap[bit / 8] &= (u8) ~(1u << (bit % 8));
			}
		}
	}
	return refused;
}

/* Bitmap A covers ports 0-7FFFh, B 8000h-FFFFh, one bit each: the policy's
 * own layout. An access that wraps past FFFFh always exits (25.1.3). */
void vmx_io_bitmap_fill(u8 *ab, const struct intercept_policy *p)
{
	memcpy(ab, p->io, 2 * PAGE_SIZE);
}
_Static_assert(sizeof(((struct intercept_policy *)0)->io) == 2 * PAGE_SIZE,
	       "I/O bitmaps A and B hold the policy's port map");

int vmx_vm_maps_build(struct vm *vm)
{
	struct vmx_vm *s = &vm->arch.vmx;
	unsigned refused;

	/* A and B contiguous here, so B is A + 4 KiB. */
	s->io_bitmap_pa = page_alloc(2, PAGE_SIZE);
	s->msr_bitmap_pa = page_alloc(1, PAGE_SIZE);
	if (!s->io_bitmap_pa || !s->msr_bitmap_pa) {
		vmx_vm_maps_free(vm);
		return -ENOMEM;
	}
	vmx_io_bitmap_fill((u8 *)(uintptr_t)s->io_bitmap_pa, vm->intercepts);
	refused = vmx_msr_bitmap_fill((u8 *)(uintptr_t)s->msr_bitmap_pa, vm->intercepts);
	if (refused)
		kprintf("vmx: vm %s: %u MSR accesses the policy passes stay intercepted: "
			"VT-x does not switch them\n", vm->name, refused);
	return 0;
}

void vmx_vm_maps_free(struct vm *vm)
{
	struct vmx_vm *s = &vm->arch.vmx;

	if (s->io_bitmap_pa)
		page_free(s->io_bitmap_pa, 2);
	if (s->msr_bitmap_pa)
		page_free(s->msr_bitmap_pa, 1);
	s->io_bitmap_pa = s->msr_bitmap_pa = 0;
}
