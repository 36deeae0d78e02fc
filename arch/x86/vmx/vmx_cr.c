/*
 * Loading a guest control register the core has checked (vendor set_cr,
 * core/exit_cr.c): CR0 and CR4 are split between the guest's value, kept
 * in the read shadow, and the bits VMX operation fixes, forced in the
 * register itself (SDM vol. 3, 25.6.6, 24.8); the rest is what the CPU's own
 * MOV to CRn would have done.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "hv/guest_ctx.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "asm/vmx.h"
#include "hv/gmem.h"
#include "hv/shadow.h"

/* PAE paging without long mode: the PDPTEs come from the VMCS on entry
 * (27.3.2.4), so a CR write we complete loads them as the CPU would. */
static int load_pdptes(struct vcpu *v, u64 cr0, u64 cr4)
{
	u64 p[4];

	/* Without EPT the CPU reads them itself, from the shadow's CR3. */
	if (v->shadow)
		return 0;
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (vmx_guest_efer(v) & EFER_LMA))
		return 0;
	if (gmem_read(v->vm, vmread(VMCS_GUEST_CR3) & 0xffffffe0u, p, sizeof(p)))
		return -EINVAL;
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, p[i]);
	return 0;
}

/* As the CPU's own MOV to CRn does when paging changes (29.4.3.1); under
 * shadow paging the shadow goes too, and with it the CPU's entries before
 * the next entry (vmx_shadow.c). */
static void flush_vpid(struct vcpu *v)
{
	if (v->shadow)
		vmx_shadow_flush(v);
	else
		vmx_flush_vpid(v);
}

static u64 guest_cr(u64 field, u64 shadow, u64 mask)
{
	return (vmread(field) & ~mask) | (vmread(shadow) & mask);
}

int vmx_set_cr(struct vcpu *v, unsigned cr, u64 val)
{
	u64 cr0 = guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, v->arch.vmx.cr0_mask);
	u64 cr4 = guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, v->arch.vmx.cr4_mask);

	switch (cr) {
	case 0:
		if (load_pdptes(v, val, cr4))
			return -EINVAL;
		vmwrite(VMCS_CR0_READ_SHADOW, val);
		vmwrite(VMCS_GUEST_CR0, vmx_cr_fixed(val, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1,
						     CR0_PE | CR0_PG));
		if (v->shadow) {
			vmx_shadow_mode(v); /* into or out of real mode */
			vmx_shadow_flush(v);
		} else if ((cr0 ^ val) & (CR0_PG | CR0_WP | CR0_PE)) {
			flush_vpid(v);
		}
		return 0;
	case 2: /* the guest's CR2 is the CPU's while its VMCS is loaded here */
		write_cr2(val);
		return 0;
	case 3:
		vmwrite(VMCS_GUEST_CR3, val);
		if (v->shadow) {
			/* A root kept for it comes back, checked; the VPID's
			 * entries go before the next entry (hw_flush). */
			struct guest_ctx ctx;

			vmx_get_paging_ctx(v, &ctx);
			shadow_load_cr3(v->shadow, v->vm, &ctx);
			return 0;
		}
		if (load_pdptes(v, cr0, cr4))
			return -EINVAL;
		vmx_flush_vpid(v);
		return 0;
	case 4:
		/* A bit this CPU cannot set in VMX operation (24.8). */
		if (val & ~vmx_caps.cr4_fixed1)
			return -EINVAL;
		if (load_pdptes(v, cr0, val))
			return -EINVAL;
		vmwrite(VMCS_CR4_READ_SHADOW, val);
		vmwrite(VMCS_GUEST_CR4, vmx_cr_fixed(val, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
		flush_vpid(v);
		return 0;
	}
	return -EINVAL;
}
