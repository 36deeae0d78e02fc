/* AMD-V state kept inside the generic vCPU and VM (the vendor union). */
#ifndef SVM_STATE_H
#define SVM_STATE_H

#include "hv/types.h"
#include "hv/tlb_tag.h"

struct vmcb;

struct svm_vcpu {
	struct vmcb *vmcb;  /* one 4 KiB page; identity-mapped, so also its physical address */
	struct tlb_tag asid; /* under shadow paging each root has its own (svm_shadow.c) */
	bool virq_inflight; /* V_IRQ set and not yet taken by the guest */
	/* Entered with an interrupt shadow at shadow_rip, nothing injected
	 * (svm_exit.c, shadow_keep). */
	bool shadow_entered;
	u64 shadow_rip;
	/* NMIs (svm_nmi.c): AMD-V without vNMI keeps no NMI blocking, so we
	 * do. nmi_masked from an NMI's injection until its handler's IRET has
	 * run: the IRET is intercepted, and it has run once an exit finds RIP
	 * elsewhere than at it (iret_rip). */
	bool nmi_masked;
	bool iret_seen;
	u64 iret_rip;
};

struct svm_vm {
	/* The nested tables are vm->gmem's (include/hv/gmem.h). */
	u64 iopm_pa, msrpm_pa; /* its permission maps (svm_maps.c) */
};

#endif
