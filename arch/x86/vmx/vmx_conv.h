/*
 * Conversions between VT-x's encodings and utsuwa's, free of VMX
 * instructions so the host tests build them: segment access rights, the
 * control MSRs' allowed settings, the CR0/CR4 bits VMX operation fixes.
 */
#ifndef VMX_CONV_H
#define VMX_CONV_H

#include "hv/types.h"

/*
 * VMCS access rights (SDM vol. 3, 25.4.1, Table 25-2) from the VMCB's
 * packed 12-bit attributes (include/hv/guest_ctx.h): bits 0-7 are the same,
 * attribute bits 8-11 (AVL, L, D/B, G) are access-rights bits 12-15, and a
 * segment that is not present is "unusable" (bit 16).
 */
u32 vmx_ar_from_attr(u16 attr);
/* The reverse; an unusable segment reads as attributes 0. */
u16 vmx_attr_from_ar(u32 ar);

/*
 * A VM-execution, VM-exit or VM-entry control word from its capability MSR
 * (Appendix A.3-A.5): bits 31:0 of cap are the settings that must be 1,
 * bits 63:32 those that may be 1. Asks for required | optional; returns the
 * word to write, with *missing the required bits the CPU cannot set (0 when
 * all are there).
 */
u32 vmx_ctls_adjust(u64 cap, u32 required, u32 optional, u32 *missing);

/* A CR0/CR4 value with the bits VMX operation fixes (A.7, A.8) applied,
 * except those in free (CR0.PE/PG for an unrestricted guest). */
u64 vmx_cr_fixed(u64 val, u64 fixed0, u64 fixed1, u64 free);

/* The bits of CR0/CR4 VMX operation forces one way or the other: the
 * guest/host mask that hides them behind the read shadow (25.6.6). */
u64 vmx_cr_forced(u64 fixed0, u64 fixed1, u64 free);

/* The CR4 guest/host mask: the forced bits, and every bit of a feature CPUID
 * may hide (all but CR4_ALWAYS_GUEST_BITS), so that a MOV to CR4 changing
 * one exits and the core checks it against the VM's CPUID (SDM vol. 3,
 * 25.6.6: a write that changes a masked bit away from the read shadow
 * exits; core/exit_cr.c). Such writes are rare (set-up, not TLB flushes:
 * PGE stays the guest's). */
u64 vmx_cr4_mask(u64 fixed0, u64 fixed1);

#endif
