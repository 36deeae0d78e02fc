/*
 * The guest's EFER and PAT on a VT-x CPU without the VMCS controls that
 * switch them (load/save IA32_EFER and IA32_PAT, SDM vol. 3, 25.7.1 and
 * 25.8.1): Core 2 generation CPUs such as Bochs's core2_penryn_t9600, which
 * have no EPT either, so VMs there run on shadow page tables.
 *
 * There the VM-entry MSR-load list loads the guest's two values after the
 * guest state, and the VM-exit MSR-load list puts the host's back (25.7.2,
 * 25.8.2; the lists' entry format is table 25-15, their loading 27.4 and
 * 28.6). No exit stores them: the guest changes neither without an exit
 * (WRMSR of both is intercepted, and LMA changes only with a CR0 write,
 * which exits under shadow paging), so the values the hypervisor set are
 * the guest's. The accessors below read and write them (with the controls,
 * the VMCS fields).
 *
 * The list's EFER has LME clear while LMA is: VMX operation forces CR0.PG,
 * and a load of LME = 1 under paging without LMA would make the entry fail
 * (KVM does the same on such CPUs); the guest reads the value it wrote
 * (msr_list_efer). LMA itself comes from the "IA-32e mode guest" entry
 * control (27.3.2.1), which vmx_msr_state keeps equal to it.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "asm/cpu.h"
#include "asm/vmx.h"
#include "hv/guest_ctx.h"
#include "hv/mm.h"
#include "hv/vcpu.h"

/* SDM vol. 3, table 25-15: an entry of an MSR-load or MSR-store list. */
struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
};

enum { LIST_EFER, LIST_PAT, LIST_LEN };

/* The host's values, the same on every CPU: one list for all VMCSs. */
static struct vmx_msr_entry *host_list;

static struct vmx_msr_entry *guest_list(struct vcpu *v)
{
	return (struct vmx_msr_entry *)(uintptr_t)v->arch.vmx.msr_list;
}

static u64 lme_only_with_lma(u64 efer)
{
	return efer & EFER_LMA ? efer : efer & ~EFER_LME;
}

int vmx_msr_list_init(struct vcpu *v, u64 efer)
{
	struct vmx_msr_entry *g;

	if (!vmx_caps.msr_lists)
		return 0;
	if (!host_list) {
		u64 pa = page_alloc(1, PAGE_SIZE);

		if (!pa)
			return -ENOMEM;
		host_list = (struct vmx_msr_entry *)(uintptr_t)pa;
		host_list[LIST_EFER] = (struct vmx_msr_entry){ .index = MSR_EFER };
		host_list[LIST_PAT] = (struct vmx_msr_entry){ .index = MSR_IA32_PAT };
		host_list[LIST_EFER].value = rdmsr(MSR_EFER);
		host_list[LIST_PAT].value = rdmsr(MSR_IA32_PAT);
	}
	v->arch.vmx.msr_list = page_alloc(1, PAGE_SIZE);
	if (!v->arch.vmx.msr_list)
		return -ENOMEM;
	g = guest_list(v);
	g[LIST_EFER] = (struct vmx_msr_entry){ .index = MSR_EFER };
	g[LIST_PAT] = (struct vmx_msr_entry){ .index = MSR_IA32_PAT, .value = PAT_POWER_ON };
	vmx_set_guest_efer(v, efer);
	return 0;
}

void vmx_msr_list_put(struct vcpu *v, void (*put)(u64 *failed, u64 field, u64 value),
		      u64 *failed)
{
	u64 pa = v->arch.vmx.msr_list;

	if (!vmx_caps.msr_lists)
		return;
	put(failed, VMCS_ENTRY_MSR_LOAD_ADDR, pa);
	put(failed, VMCS_ENTRY_MSR_LOAD_COUNT, LIST_LEN);
	put(failed, VMCS_EXIT_MSR_LOAD_ADDR, (u64)(uintptr_t)host_list);
	put(failed, VMCS_EXIT_MSR_LOAD_COUNT, LIST_LEN);
}

void vmx_msr_list_free(struct vcpu *v)
{
	if (v->arch.vmx.msr_list)
		page_free(v->arch.vmx.msr_list, 1);
	v->arch.vmx.msr_list = 0;
}

u64 vmx_guest_efer(struct vcpu *v)
{
	return vmx_caps.msr_lists ? v->arch.vmx.msr_list_efer : vmread(VMCS_GUEST_IA32_EFER);
}

void vmx_set_guest_efer(struct vcpu *v, u64 efer)
{
	if (vmx_caps.msr_lists) {
		v->arch.vmx.msr_list_efer = efer;
		guest_list(v)[LIST_EFER].value = lme_only_with_lma(efer);
	} else {
		vmwrite(VMCS_GUEST_IA32_EFER, efer);
	}
}

u64 vmx_guest_pat(struct vcpu *v)
{
	return vmx_caps.msr_lists ? guest_list(v)[LIST_PAT].value : vmread(VMCS_GUEST_IA32_PAT);
}

void vmx_set_guest_pat(struct vcpu *v, u64 pat)
{
	if (vmx_caps.msr_lists)
		guest_list(v)[LIST_PAT].value = pat;
	else
		vmwrite(VMCS_GUEST_IA32_PAT, pat);
}
