/* The AMD-V back end (vendor ops in svm.c). */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include "hv/vendor.h"

extern const struct vendor_ops svm_ops;

/* True when this CPU reports AMD-V (CPUID 8000_0001h ECX bit 2). */
bool svm_supported(void);

/* The CPU saves the next RIP on instruction intercepts (CPUID 8000_000Ah EDX bit 3). */
extern bool svm_nrip;

/* The world switch (svm_run.S). */
void svm_vmrun(void *regs, u64 guest_vmcb_pa, u64 host_vmcb_pa);

/* The whole vCPU state, and freeing a vCPU's VMCB (svm_vstate.c). */
struct vcpu_state;
int svm_get_state(struct vcpu *v, struct vcpu_state *s);
int svm_set_state(struct vcpu *v, const struct vcpu_state *s);
void svm_vcpu_destroy(struct vcpu *v);
void svm_vm_destroy(struct vm *vm);

/* Permission maps shared by all guests (svm_maps.c): physical addresses. */
int svm_maps_init(void);
extern u64 svm_iopm_pa, svm_msrpm_pa;

#endif
