/*
 * The dirty log's say on a shadow leaf (core/gmem_dirty.c): while logging,
 * a page is writable in the VM's nested tables (kept under shadow paging
 * as the record of what is protected) only after its first write was
 * marked. A write fault marks it and unprotects it first, so the shadow
 * leaf is made writable only after the page is marked (KVM does the same),
 * and a harvest's write-protection reaches the shadow through its TLB
 * shootdown, which flushes every vCPU's shadow (vendor flush_guest_tlb).
 */
#include "hv/shadow.h"
#include "hv/gmem.h"
#include "hv/vm.h"

bool shadow_gmem_writable(struct vm *vm, u64 gpa, bool write)
{
	struct gmem *g = &vm->gmem;
	bool ok;

	if (!__atomic_load_n(&g->logging, __ATOMIC_ACQUIRE))
		return true;
	spin_lock(&g->lock);
	ok = nested_pt_writable(&g->pt, gpa);
	spin_unlock(&g->lock);
	if (ok || !write)
		return ok;
	return gmem_dirty_fault(vm, gpa);
}
