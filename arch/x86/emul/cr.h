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

/* MOV to CR4: 0 with *val the CR4 to load, or -EPERM: #GP. allowed is the
 * VM's cpuid_policy.cr4_allowed: the bits of the features CPUID offers. */
int cr4_write_check(const struct guest_ctx *c, bool long64, u64 allowed, u64 *val);

/* The CR4 bits every x86-64 CPU has (VME to OSXMMEXCPT), which a guest may
 * change without the hypervisor looking (on VT-x they stay out of the CR4
 * guest/host mask); every later bit belongs to a feature CPUID may hide, so
 * its writes are checked (arch/x86/emul/cpuid.c, cr4_allowed). */
#define CR4_ALWAYS_GUEST_BITS 0x7ffULL

#endif
