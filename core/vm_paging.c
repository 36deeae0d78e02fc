/*
 * Which paging a VM gets (paging=, docs/config.md): nested paging where the
 * CPU has it, unless the VM asks for shadow page tables; shadow page
 * tables on a CPU without it (AMD-V without NPT: CPUID 8000_000Ah EDX.NP,
 * APM vol. 3, E.4.9), where paging=nested is refused.
 */
#include "hv/vm_paging.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

int vm_paging_init(struct vm *vm)
{
	bool nested = vendor->nested_paging();

	switch (vm->cfg.paging) {
	case PAGING_NESTED:
		if (!nested) {
			kprintf("utsuwa: vm '%s': paging=nested: this CPU has no nested paging; "
				"vm not started\n", vm->name);
			return -EINVAL;
		}
		vm->shadow = false;
		break;
	case PAGING_SHADOW:
		vm->shadow = true;
		break;
	case PAGING_AUTO:
		vm->shadow = !nested;
		break;
	}
	/* Passed-through BARs are mapped in the nested tables (core/vm_passthru.c). */
	if (vm->shadow && vm->cfg.nr_pci) {
		kprintf("utsuwa: vm '%s': pci= needs nested paging, which this VM does not have; "
			"vm not started\n", vm->name);
		return -EINVAL;
	}
	if (vm->shadow && !vendor->shadow_paging) {
		kprintf("utsuwa: vm '%s': shadow paging is not available on %s yet%s; vm not started\n",
			vm->name, vendor->name, nested ? "" : " (and the CPU has no nested paging)");
		return -EINVAL;
	}
	return 0;
}

/* A PAE root must lie below 4 GiB (CR3 holds 32 bits outside long mode):
 * checked after shadow_init. */
static u64 shadow_table_alloc(unsigned pages)
{
	return page_alloc(pages, PAGE_SIZE);
}

static void shadow_table_free(u64 pa, unsigned pages)
{
	page_free(pa, pages);
}

int vm_paging_vcpu_init(struct vcpu *v)
{
	struct shadow_mmu *s;
	int err;

	if (!v->vm->shadow)
		return 0;
	s = kzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = shadow_init(s, shadow_table_alloc, shadow_table_free);
	if (!err && !shadow_roots_below_4g(s)) {
		kprintf("utsuwa: vm '%s': no pages below 4 GiB for the shadow roots\n", v->vm->name);
		shadow_destroy(s);
		err = -ENOMEM;
	}
	if (err) {
		kfree(s);
		return err;
	}
	v->shadow = s;
	return 0;
}

void vm_paging_vcpu_free(struct vcpu *v)
{
	if (!v->shadow)
		return;
	shadow_destroy(v->shadow);
	kfree(v->shadow);
	v->shadow = NULL;
}

/* The shadow MMU's counts over the VM's vCPUs (include/hv/shadow.h). */
void vm_paging_report(const struct vm *vm)
{
	struct shadow_stats t = { 0 };

	if (!vm->shadow)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct shadow_stats *s;

		if (!vm->vcpus[i] || !vm->vcpus[i]->shadow)
			continue;
		s = &vm->vcpus[i]->shadow->stats;
		t.fills += s->fills;
		t.flushes += s->flushes;
		t.full += s->full;
		t.root_hits += s->root_hits;
		t.root_misses += s->root_misses;
		t.stale += s->stale;
		t.tlb_kept += s->tlb_kept;
		t.tlb_flushes += s->tlb_flushes;
		t.tlb_pages += s->tlb_pages;
	}
	kprintf("utsuwa: vm %s: shadow paging: %lu leaves filled; CR3 loads: %lu took a kept root "
		"back (%lu with their TLB entries), %lu started one; %lu entries dropped as stale; "
		"%lu flushes (%lu as the tables ran out); %lu root tags flushed, %lu pages "
		"invalidated in one\n",
		vm->name, (unsigned long)t.fills, (unsigned long)t.root_hits,
		(unsigned long)t.tlb_kept, (unsigned long)t.root_misses, (unsigned long)t.stale,
		(unsigned long)t.flushes, (unsigned long)t.full, (unsigned long)t.tlb_flushes,
		(unsigned long)t.tlb_pages);
}
