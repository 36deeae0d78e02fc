/*
 * The control-register policy every back end follows: what a MOV to CR0 or
 * CR4 may write, and what it does to EFER.LMA. The exit handlers
 * (core/exit_cr.c) check here, then have the back end load the value.
 */
#ifndef EMUL_CR_H
#define EMUL_CR_H

#include "hv/types.h"
#include "hv/guest_ctx.h"

/*
 * MOV to CR0 from the state in c (cr0, cr3, cr4, efer without SVME, cs.attr).
 * 0 with *val the CR0 to load (32 bits outside 64-bit mode) and *efer the
 * EFER after it (LMA follows PG when LME is set); -EPERM: #GP.
 */
int cr0_write_check(const struct guest_ctx *c, bool long64, u64 *val, u64 *efer);

/* MOV to CR4: 0 with *val the CR4 to load, or -EPERM: #GP. */
int cr4_write_check(const struct guest_ctx *c, bool long64, u64 *val);

/* The CR4 bits a guest may set: those whose features CPUID can offer. VMXE
 * and SMXE are not (no VMX or SMX in a guest), nor LA57 (4-level paging). */
#define CR4_GUEST_BITS (0xfffULL /* VME-UMIP */ | BIT(16) /* FSGSBASE */ | BIT(17) /* PCIDE */ | \
			BIT(18) /* OSXSAVE */ | CR4_SMEP | CR4_SMAP | CR4_PKE)

#endif
