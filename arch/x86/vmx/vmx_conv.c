#include "arch/x86/vmx/vmx_conv.h"
#include "arch/x86/emul/cr.h"
#include "arch/x86/vmx/vmcs.h"
#include "hv/guest_ctx.h"

u32 vmx_ar_from_attr(u16 attr)
{
	if (!(attr & SEG_ATTR_P))
		return VMX_AR_UNUSABLE;
	return (attr & 0xffu) | ((u32)(attr & 0xf00u) << 4);
}

u16 vmx_attr_from_ar(u32 ar)
{
	if (ar & VMX_AR_UNUSABLE)
		return 0;
	return (u16)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
}

u32 vmx_ctls_adjust(u64 cap, u32 required, u32 optional, u32 *missing)
{
	u32 must = (u32)cap, may = (u32)(cap >> 32);
	u32 ctls = (required | optional | must) & may;

	*missing = required & ~ctls;
	return ctls;
}

u64 vmx_cr_fixed(u64 val, u64 fixed0, u64 fixed1, u64 free)
{
	return (val | (fixed0 & ~free)) & (fixed1 | free);
}

u64 vmx_cr_forced(u64 fixed0, u64 fixed1, u64 free)
{
	/* CR0 and CR4 are 32-bit registers with reserved upper halves. */
	return (fixed0 | ~fixed1) & 0xffffffffULL & ~free;
}

u64 vmx_cr4_mask(u64 fixed0, u64 fixed1)
{
	return vmx_cr_forced(fixed0, fixed1, 0) | (0xffffffffULL & ~CR4_ALWAYS_GUEST_BITS);
}
