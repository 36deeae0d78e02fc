/* VT-x state kept inside the generic vCPU and VM (the vendor union). */
#ifndef VMX_STATE_H
#define VMX_STATE_H

#include "hv/types.h"
#include "hv/tlb_tag.h"

/* The guest's syscall MSRs that no VMCS field switches: the back end swaps
 * them when the vCPU comes to and leaves a CPU (vcpu_load/vcpu_put). */
struct vmx_guest_msrs {
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
};

struct vmx_vcpu {
	u64 vmcs;           /* physical address of its VMCS (identity-mapped) */
	u64 virtual_apic;   /* its virtual-APIC page: the guest's CR8 (TPR shadow) */
	bool launched;      /* VMLAUNCHed since the last VMCLEAR: VMRESUME next */
	int host_cpu;       /* the CPU whose host state the VMCS holds; -1: none */
	struct tlb_tag vpid; /* under shadow paging each root has its own (vmx_shadow.c) */
	u16 vmcs_vpid;      /* the VPID the VMCS holds (shadow paging writes it when it changes) */
	u32 proc_ctls;      /* primary processor-based controls as in the VMCS */
	u32 entry_intr;     /* the event the next entry injects (VMCS copy); 0: none */
	u8 window_vector;   /* an interrupt waiting for the interrupt window */
	bool window_pending;
	u8 intr_shadow;     /* STI/MOV-SS blocking at the last exit */
	u64 exit_rip;       /* guest RIP at the last exit */
	u64 timer_slice_end; /* the slice end the preemption timer counts to */
	struct vmx_guest_msrs msrs;
	u64 cr2;            /* the guest's CR2 while it is off the CPU */
	u64 dr6;            /* the guest's DR6 while it is off the CPU (no VMCS field) */
	u64 tsc_offset;     /* as in the VMCS: the VM's clock offset at the last vcpu_load */
	int vmcs_cpu;       /* the CPU where the VMCS is current (vcpu_load to vcpu_put); -1: none */
	/* CR0/CR4 bits the guest reads from the read shadows (25.6.6): the
	 * bits VMX fixes under nested paging, every bit under shadow paging. */
	u64 cr0_mask, cr4_mask;
	u32 proc2_ctls;     /* secondary controls: no EPT nor unrestricted guest under shadow paging */
	/* Shadow paging (vmx_shadow.c): the guest's CR0.PE is clear, and it
	 * runs in virtual-8086 mode (vmx_rmode.c). */
	bool rmode;
	/* Without the VMCS's EFER and PAT controls (vmx_msr_list.c): the
	 * page of the VM-entry MSR-load list, and the EFER the guest wrote. */
	u64 msr_list;
	u64 msr_list_efer;
};

struct vmx_vm {
	u64 eptp; /* EPT pointer: the PML4's address, WB, 4-level walk */
	u64 io_bitmap_pa, msr_bitmap_pa; /* its bitmaps (vmx_maps.c); B is A + 4 KiB */
};

#endif
