/*
 * Every host interrupt (vectors 32-255; not the exceptions, which may come
 * before the per-CPU blocks exist, and whose dump does not trust GS) starts
 * by checking that the GS base points at a per-CPU block (this_cpu() reads
 * %gs:0). Nothing in utsuwa writes the GS
 * base after boot, VMLOAD puts the host's back after every #VMEXIT, and the
 * VMCS's host-state area does on VT-x; yet a crashme run once took a host
 * timer interrupt with a GS base of 0, and the tick's this_cpu() read the
 * real-mode interrupt table at physical 0 (README, issue 15). Rather than
 * let that become a #GP deep in the scheduler, the base is put back from
 * the local APIC ID and the interrupted context is reported (the first few
 * times), so the host lives and the log shows where it came from.
 */
#include "arch/x86/fault.h"
#include "arch/x86/lapic.h"
#include "arch/x86/svm/vmcb.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/vendor.h"
#include "lib/string.h"
#include "asm/cpu.h"

#define GS_REPORTS_MAX 8

static unsigned gs_repairs;

void gs_base_guard(const struct irq_frame *f)
{
	u64 gs = rdmsr(MSR_GS_BASE);
	int idx = percpu_index_of(gs);
	u32 id;
	unsigned n;

	if (likely(idx >= 0 && (unsigned)idx < nr_cpus))
		return;
	id = apic_id();
	for (unsigned i = 0; i < nr_cpus; i++) {
		if (percpu_area[i].apic_id != id)
			continue;
		wrmsr(MSR_GS_BASE, (u64)(uintptr_t)&percpu_area[i]);
		n = __atomic_add_fetch(&gs_repairs, 1, __ATOMIC_RELAXED);
		if (n <= GS_REPORTS_MAX)
			kprintf("CPU %u: GS base was 0x%lx at vector %lu (interrupted RIP=0x%lx "
				"CS=%04lx RFLAGS=%08lx RSP=0x%lx); set back to its per-CPU block "
				"(%u time%s)\n",
				i, gs, f->vector & 0xff, f->rip, f->cs, f->rflags, f->rsp, n,
				n == 1 ? "" : "s");
		if (n <= GS_REPORTS_MAX && vendor && !strcmp(vendor->name, "svm") &&
		    percpu_area[i].vendor_area[1]) {
			/* What VMLOAD gives the host after every exit: a 0 here
			 * says the save area was overwritten. */
			const struct vmcb *h = (const void *)(uintptr_t)percpu_area[i].vendor_area[1];

			kprintf("CPU %u: its host VMCB (VMLOAD after each exit) holds GS base 0x%lx\n",
				i, h->save.gs.base);
		}
		return;
	}
	/* No CPU of ours has this APIC ID: nothing to put back; the fault
	 * path, which does not trust GS, reports what follows. */
}
