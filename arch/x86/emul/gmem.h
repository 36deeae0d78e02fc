/*
 * Guest RAM as the emulator reads it: vm_gpa_to_hva with the first region
 * checked inline, since the page walk and the fetch on every exit without
 * NRIP make four or five look-ups and most VMs have a single region.
 */
#ifndef EMUL_GMEM_H
#define EMUL_GMEM_H

#include "hv/types.h"
#include "hv/vm.h"

/* Host pointer to guest-physical [gpa, gpa + len), or NULL outside RAM. */
static inline const void *emul_gpa_ptr(const struct vm *vm, u64 gpa, u64 len)
{
	const struct vm_mem_region *r = &vm->mem[0];
	u64 off = gpa - r->gpa; /* wraps to a huge value below the region */

	if (likely(vm->nr_mem && off < r->size && len <= r->size - off))
		return (const void *)(uintptr_t)(r->hpa + off);
	return vm_gpa_to_hva(vm, gpa, len);
}

#endif
