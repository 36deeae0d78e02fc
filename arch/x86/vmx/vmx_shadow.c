/*
 * VT-x with shadow page tables (a CPU without EPT or unrestricted guest, or
 * a VM with paging=shadow): the CPU walks the vCPU's shadow tables
 * (arch/x86/mmu/), so the guest must not see or change the CR0, CR3, CR4
 * and EFER it really runs with. Such a VMCS has neither "enable EPT" nor
 * "unrestricted guest" (vmx_vmcs.c), so the CPU needs CR0.PE and CR0.PG
 * (SDM vol. 3, 26.3.1.1): paging off runs on the shadow's identity map and
 * real mode in virtual-8086 mode (vmx_rmode.c).
 *
 * As on AMD-V (svm_shadow.c), the VMCS guest-state area holds the guest's
 * own CR0, CR3, CR4 and EFER at all times but across the VM entry: every
 * other reader (exit handlers, the state snapshot, the emulator's page
 * walk) sees the guest's view. Just before the entry they are swapped for
 * the registers shadow_hw_regs computes and just after the exit swapped
 * back. This holds because the guest cannot change them without an exit:
 * the CR0 and CR4 guest/host masks own every bit (25.6.6: a MOV to CR0 or
 * CR4, CLTS or LMSW that would change one exits, 26.1.3, and reads return
 * the read shadows, which hold the guest's values), CR3 loads and stores
 * exit (CR3-load and CR3-store exiting with a CR3-target count of 0,
 * 25.6.7), EFER is behind the MSR bitmap. Every #PF exits (bit 14 of the
 * exception bitmap with PFEC mask and match 0, 25.6.3), and with the #PF
 * intercepted the CPU leaves CR2 alone (28.1); INVLPG exits ("INVLPG
 * exiting"); both go to the shadow MMU (core/exit_shadow.c).
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "hv/intercept.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/percpu.h"
#include "asm/vmx.h"

/* The guest's linear translations under vpid go (29.4.3.1). */
static void flush_one_vpid(u16 vpid)
{
	if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vpid);
	else
		invvpid(INVVPID_ALL_CONTEXT, 0);
}

/* This vCPU's (nested paging; under shadow paging its roots' tags are
 * flushed as they come, vmx_shadow_enter); without VPIDs every VM entry
 * and exit drops them anyway (29.4.3.3). */
void vmx_flush_vpid(struct vcpu *v)
{
	if (vmx_caps.vpid && !v->shadow && v->arch.vmx.vpid.gen)
		flush_one_vpid((u16)v->arch.vmx.vpid.id);
}

/*
 * The guest runs the current shadow root under that root's VPID
 * (arch/x86/mmu/shadow_tlb.c): a new generation of this CPU's VPIDs
 * flushes them all, a root that lost entries since its VPID last ran
 * flushes that one, or only the pages it lost with individual-address
 * INVVPID where the CPU has it (31.3 "INVVPID"; their addresses are the
 * guest's canonical ones). Without VPIDs every entry flushes.
 */
static void shadow_vpid(struct vcpu *v)
{
	struct percpu *cpu = this_cpu();
	struct shadow_tlb_work w;

	if (!vmx_caps.vpid)
		return;
	if (shadow_tlb_clean(v->shadow, &cpu->tlb_tags, (int)cpu->id, &w.tag))
		goto write;
	shadow_tlb_tag(v->shadow, &cpu->tlb_tags, (int)cpu->id, VMX_VPID_LIMIT, &w);
	switch (w.flush) {
	case SHADOW_TLB_ALL:
		invvpid(INVVPID_ALL_CONTEXT, 0);
		break;
	case SHADOW_TLB_PAGES:
		if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_ADDRESS) {
			for (unsigned i = 0; i < w.pages; i++)
				invvpid_linear(INVVPID_ADDRESS, (u16)w.tag, w.page[i]);
			break;
		}
		/* fall through */
	case SHADOW_TLB_TAG:
		flush_one_vpid((u16)w.tag);
		break;
	case SHADOW_TLB_NONE:
		break;
	}
write:
	/* The field stays in the VMCS across VMCLEAR and VMPTRLD (25.11.1). */
	if (w.tag != v->arch.vmx.vmcs_vpid) {
		v->arch.vmx.vmcs_vpid = (u16)w.tag;
		vmwrite(VMCS_VPID, w.tag);
	}
}

void vmx_shadow_flush(struct vcpu *v)
{
	shadow_flush(v->shadow); /* every root's VPID is flushed at its next entry */
}

/*
 * After the guest's CR0 changed (or a whole new state): real mode runs in
 * virtual-8086 mode, where every exception exits (vmx_rmode.c delivers them
 * through the IVT or emulates what faulted); the segment state the switch
 * from real to protected mode leaves must pass the VM-entry checks
 * (vmx_rmode_pmode_fixup).
 */
void vmx_shadow_mode(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	bool rmode = !(vmread(VMCS_CR0_READ_SHADOW) & CR0_PE);

	if (rmode == s->rmode)
		return;
	/* Only the way out of real mode: any other state's segments are a
	 * CPU's (a user-mode CS of a restored state must stay as it is). */
	if (!rmode)
		vmx_rmode_pmode_fixup(v);
	s->rmode = rmode;
	vmwrite(VMCS_EXCEPTION_BITMAP,
		rmode ? ~0u : v->vm->intercepts->exceptions | INTERCEPT_EXC_ALWAYS);
}

void vmx_shadow_enter(struct vcpu *v, struct vmx_shadow_saved *g)
{
	struct guest_ctx ctx;
	struct shadow_hw hw;

	g->cr0 = vmread(VMCS_GUEST_CR0);
	g->cr3 = vmread(VMCS_GUEST_CR3);
	g->cr4 = vmread(VMCS_GUEST_CR4);
	g->efer = vmx_guest_efer(v);
	/* The masks own every bit: the read shadows are the guest's CR0/CR4. */
	ctx.cr0 = vmread(VMCS_CR0_READ_SHADOW);
	ctx.cr3 = g->cr3;
	ctx.cr4 = vmread(VMCS_CR4_READ_SHADOW);
	ctx.efer = g->efer;
	shadow_hw_regs(v->shadow, &ctx, &hw);
	if (v->arch.vmx.rmode)
		vmx_rmode_enter(v, &g->rm, &hw);
	/* The bits VMX operation fixes, PE and PG among them (24.8). */
	vmwrite(VMCS_GUEST_CR0, vmx_cr_fixed(hw.cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
	vmwrite(VMCS_GUEST_CR3, hw.cr3);
	vmwrite(VMCS_GUEST_CR4, vmx_cr_fixed(hw.cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
	/* LMA is unchanged (paging off clears only a lone LME), so "IA-32e
	 * mode guest" still matches it (26.3.1.1). */
	vmx_set_guest_efer(v, hw.efer);
	shadow_vpid(v);
}

void vmx_shadow_leave(struct vcpu *v, const struct vmx_shadow_saved *g)
{
	vmwrite(VMCS_GUEST_CR0, g->cr0);
	vmwrite(VMCS_GUEST_CR3, g->cr3);
	vmwrite(VMCS_GUEST_CR4, g->cr4);
	vmx_set_guest_efer(v, g->efer);
	if (v->arch.vmx.rmode)
		vmx_rmode_leave(v, &g->rm);
}
