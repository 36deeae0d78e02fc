/* The AMD-V back end (vendor ops in svm.c). */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include "hv/vendor.h"

extern const struct vendor_ops svm_ops;

/* True when this CPU reports AMD-V (CPUID 8000_0001h ECX bit 2). */
bool svm_supported(void);

/* The CPU saves the next RIP on instruction intercepts (CPUID 8000_000Ah EDX bit 3). */
extern bool svm_nrip;
/* Decode assists (CPUID 8000_000Ah EDX bit 7): CR and INVLPG exits name
 * their operand in EXITINFO1 (APM vol. 2, 15.33). QEMU has none. */
extern bool svm_decode_assists;

/* The world switch (svm_run.S). */
void svm_vmrun(void *regs, u64 guest_vmcb_pa, u64 host_vmcb_pa);

struct vm;
struct intercept_policy;

/* A VM's permission maps from its intercept policy (svm_maps.c): built by
 * vm_init; svm_vm_maps_free gives their pages back (VM destroy). */
#define SVM_IOPM_SIZE (3 * PAGE_SIZE)
#define SVM_MSRPM_SIZE (2 * PAGE_SIZE)
int svm_vm_maps_build(struct vm *vm);
void svm_vm_maps_free(struct vm *vm);
/* The layouts (APM vol. 2, 15.10.1 and 15.11), for the builder and tests:
 * the MSRPM bit of an MSR's read or write intercept, -1 outside the map. */
void svm_iopm_fill(u8 *iopm, const struct intercept_policy *p);
void svm_msrpm_fill(u8 *msrpm, const struct intercept_policy *p);
long svm_msrpm_bit(u32 msr, bool write);

/* The whole vCPU state, and freeing a vCPU's VMCB (svm_vstate.c). */
struct vcpu_state;
struct vcpu_state_event;
/* NMIs (svm_nmi.c). */
bool svm_offer_nmi(struct vcpu *v);
void svm_nmi_track(struct vcpu *v);
bool svm_nmi_blocked(const struct vcpu *v);
void svm_set_nmi_blocked(struct vcpu *v, bool blocked);

/* Shadow paging (svm_shadow.c). */
extern bool svm_npt;
extern bool svm_flush_by_asid; /* CPUID 8000_000Ah EDX bit 6 */
extern u32 svm_nr_asids;
void svm_shadow_vcpu_init(struct vcpu *v);
struct vmcb;
struct svm_shadow_saved {
	u64 cr0, cr3, cr4, efer;
};
void svm_shadow_enter(struct vcpu *v, struct vmcb *vmcb, struct svm_shadow_saved *g);
void svm_shadow_leave(struct vmcb *vmcb, const struct svm_shadow_saved *g);

int svm_get_state(struct vcpu *v, struct vcpu_state *s);
void svm_pending_event(struct vcpu *v, struct vcpu_state_event *e);
int svm_set_state(struct vcpu *v, const struct vcpu_state *s);
void svm_vcpu_destroy(struct vcpu *v);
void svm_vm_destroy(struct vm *vm);

#endif
