/*
 * The MSR policy every back end follows: which MSRs a guest reaches
 * directly, which the hypervisor emulates, and #GP for the rest.
 */
#ifndef EMUL_MSR_H
#define EMUL_MSR_H

#include "hv/types.h"

struct vcpu;

/* MSRs whose guest copy the CPU switches itself (VMCB/VMCS fields or
 * VMLOAD/VMSAVE state), so the guest may read and write them without exits. */
extern const u32 msr_passthrough[];
extern const unsigned nr_msr_passthrough;

/* 0, or -EPERM when the guest must get #GP. */
int msr_read(struct vcpu *v, u32 msr, u64 *val);
int msr_write(struct vcpu *v, u32 msr, u64 val);

/* The architectural checks, for msr_write and tests. EFER: cur is the
 * guest's EFER, cr0 its CR0; 0 with *val as the back end stores it (LMA
 * kept), or -EPERM (#GP). PAT: every byte a valid memory type. */
int msr_efer_check(u64 cur, u64 cr0, u64 *val);
bool msr_pat_valid(u64 val);

/* Power-on values of the emulated MSRs. */
void msr_vcpu_reset(struct vcpu *v);

/* Writes the vCPU's kvmclock structure again if the guest enabled it (after
 * the VM's guest TSC was set or its clock started again: hv/vm_clock.h). */
void msr_kvmclock_publish(struct vcpu *v);

#endif
