/*
 * The VM-wide guest TLB flush. Each vCPU remembers the tlb_gen of its last
 * flush and compares it on every entry (core/vcpu_run.c). in_guest is set
 * at every entry and cleared only when the vCPU leaves its CPU (not after
 * each exit, to keep the exit path short), so it means "may be in guest
 * mode". A vCPU marked so on another CPU is kicked by an IPI, and we wait
 * until it has re-entered (and so flushed) or left its CPU. A CPU that
 * waits clears its own vCPU's mark first: two CPUs flushing at once do not
 * wait for each other.
 */
#include "hv/gmem.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/percpu.h"

void gmem_tlb_shootdown(struct vm *vm)
{
	/* A full barrier: either a vCPU's entry sees the new generation, or
	 * we see its in_guest (the entry stores in_guest, then fences, then
	 * reads tlb_gen). */
	struct vcpu *me = this_cpu()->current;
	u64 gen;

	if (me)
		__atomic_store_n(&me->in_guest, 0, __ATOMIC_SEQ_CST);
	gen = __atomic_add_fetch(&vm->gmem.tlb_gen, 1, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v == me || !__atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST))
			continue;
		ipi_send((u32)v->cpu, VECTOR_KICK);
		/* We hold no lock, and our own vCPU is unmarked: whoever we
		 * wait for makes progress. */
		while (__atomic_load_n(&v->in_guest, __ATOMIC_ACQUIRE) &&
		       (s64)(__atomic_load_n(&v->tlb_gen, __ATOMIC_ACQUIRE) - gen) < 0)
			__builtin_ia32_pause();
	}
}
