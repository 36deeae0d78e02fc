/*
 * MOV to CR0 and CR4 as the CPU checks them (SDM vol. 3, 2.5 "Control
 * Registers" and 10.8.5 "Initializing IA-32e Mode"; SDM vol. 2, MOV-Move
 * to/from Control Registers; APM vol. 2, 3.1.1, 3.1.3 and 14.6).
 */
#include "arch/x86/emul/cr.h"

int cr0_write_check(const struct guest_ctx *c, bool long64, u64 *val, u64 *efer)
{
	u64 new = long64 ? *val : (u32)*val, old = c->cr0;
	u64 e = c->efer;

	if (new >> 32)
		return -EPERM;
	if ((new & CR0_PG) && !(new & CR0_PE))
		return -EPERM;
	if ((new & CR0_NW) && !(new & CR0_CD))
		return -EPERM;
	if ((new & CR0_PG) && !(old & CR0_PG) && (e & EFER_LME)) {
		/* Entering long mode needs PAE paging. */
		if (!(c->cr4 & CR4_PAE))
			return -EPERM;
		e |= EFER_LMA;
	} else if (!(new & CR0_PG) && (old & CR0_PG)) {
		/* Paging off: not from 64-bit code, nor with PCIDs on. */
		if (long64 || (c->cr4 & CR4_PCIDE))
			return -EPERM;
		e &= ~EFER_LMA;
	}
	*val = new;
	*efer = e;
	return 0;
}

int cr4_write_check(const struct guest_ctx *c, bool long64, u64 allowed, u64 *val)
{
	u64 new = long64 ? *val : (u32)*val;

	/* A bit whose feature CPUID does not offer is reserved: #GP, even
	 * where the host CPU has the feature (OSXSAVE without XSAVE shown,
	 * PKE without PKU). */
	if (new & ~allowed)
		return -EPERM;
	/* PAE stays on in long mode. */
	if ((c->efer & EFER_LMA) && !(new & CR4_PAE))
		return -EPERM;
	/* PCIDs: only in long mode, and only turned on with PCID 0 current. */
	if ((new & CR4_PCIDE) && !(c->cr4 & CR4_PCIDE) &&
	    (!(c->efer & EFER_LMA) || (c->cr3 & 0xfff)))
		return -EPERM;
	*val = new;
	return 0;
}
