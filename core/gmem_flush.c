/*
 * The VM-wide guest TLB flush. Each vCPU remembers the tlb_gen of its last
 * flush and compares it on every entry (core/vcpu_run.c); a vCPU already in
 * guest mode on another CPU is kicked out by an IPI, and we wait until it
 * has left guest mode: after that it cannot enter again without flushing.
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
	u64 gen = __atomic_add_fetch(&vm->gmem.tlb_gen, 1, __ATOMIC_SEQ_CST);
	struct vcpu *me = this_cpu()->current;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v == me || !__atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST))
			continue;
		ipi_send((u32)v->cpu, VECTOR_KICK);
		/* Nobody waits for us here: we hold no lock, and a CPU that
		 * waits is not in guest mode. */
		while (__atomic_load_n(&v->in_guest, __ATOMIC_ACQUIRE) &&
		       (s64)(__atomic_load_n(&v->tlb_gen, __ATOMIC_ACQUIRE) - gen) < 0)
			__builtin_ia32_pause();
	}
}
