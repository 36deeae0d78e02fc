/* Guest-physical to host translation for the hypervisor's own accesses to guest RAM. */
#include "hv/vm.h"

void *vm_gpa_to_hva(const struct vm *vm, u64 gpa, u64 len)
{
	for (unsigned i = 0; i < vm->nr_mem; i++) {
		const struct vm_mem_region *r = &vm->mem[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			if (len > r->size - (gpa - r->gpa))
				return NULL;
			/* Host memory is identity-mapped, so the host address is the pointer. */
			return (void *)(uintptr_t)(r->hpa + (gpa - r->gpa));
		}
	}
	return NULL;
}
