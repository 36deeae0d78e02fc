/* The VT-x back end (vendor ops in vmx.c, exits in vmx_exit.c). */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include "hv/vendor.h"

struct vm;
struct vcpu;

extern const struct vendor_ops vmx_ops;

/* True when this CPU reports VT-x (CPUID.1:ECX.VMX[bit 5]). */
bool vmx_supported(void);

/* What cpu_enable found on the boot CPU, for the whole machine. */
struct vmx_caps {
	u32 pin, proc, proc2, exit, entry; /* the control words every VMCS gets */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 cr0_mask, cr4_mask;            /* bits hidden behind the read shadows */
	u64 ept_vpid;                      /* IA32_VMX_EPT_VPID_CAP */
	u32 revision;                      /* VMCS revision identifier */
	u8 timer_rate;                     /* preemption timer: TSC >> timer_rate */
	u32 timer_max;                     /* at most one scheduler tick, in timer units */
	bool vpid, preemption_timer, timer_saved;
	bool nmi_window;                   /* virtual NMIs and NMI-window exiting */
	bool ept;                          /* EPT usable (4-level, WB, 2 MiB pages, INVEPT) */
	bool ug;                           /* unrestricted guest (with EPT) */
	bool msr_lists;                    /* no EFER/PAT controls: MSR lists (vmx_msr_list.c) */
};
extern struct vmx_caps vmx_caps;

/* The world switch (vmx_run.S): loads the guest's general registers but
 * RSP (in the VMCS), enters with VMLAUNCH (launched = 0) or VMRESUME, and
 * stores them back at the exit. 0 after a VM exit (or an entry that failed
 * as an exit), 1 when the instruction failed (VMfailInvalid/VMfailValid). */
int vmx_enter(void *regs, u64 launched);
/* The host RIP of every VMCS: where VM exits land in vmx_run.S. */
extern const char vmx_exit_entry[];

struct percpu;
struct guest_ctx;

/* The VMCS of a vCPU (vmx_vmcs.c): built from its start state; the host
 * state of the CPU it is loaded on; the architectural state read back. */
int vmx_vcpu_init(struct vcpu *v, const struct guest_ctx *c);
void vmx_set_ctx(struct vcpu *v, const struct guest_ctx *c);
/* The copy of the local APIC's TPR that MOV from CR8 reads (vendor set_tpr). */
void vmx_set_tpr(struct vcpu *v, u8 cr8);
void vmx_write_host_state(struct percpu *cpu);
void vmx_get_ctx(struct vcpu *v, struct guest_ctx *c);
void vmx_get_paging_ctx(struct vcpu *v, struct guest_ctx *c);
/* The guest's EFER and PAT, in the VMCS or, on a CPU without the controls
 * that switch them, in MSR lists (vmx_msr_list.c). */
int vmx_msr_list_init(struct vcpu *v, u64 efer);
void vmx_msr_list_put(struct vcpu *v, void (*put)(u64 *failed, u64 field, u64 value),
		      u64 *failed);
void vmx_msr_list_free(struct vcpu *v);
u64 vmx_guest_efer(struct vcpu *v);
void vmx_set_guest_efer(struct vcpu *v, u64 efer);
u64 vmx_guest_pat(struct vcpu *v);
void vmx_set_guest_pat(struct vcpu *v, u64 pat);
/* A control register core/ has checked, loaded (vmx_cr.c; vendor set_cr). */
int vmx_set_cr(struct vcpu *v, unsigned cr, u64 val);

/* Entering the guest and decoding the exit (vmx_exit.c), and the events
 * the next entry delivers (vmx_event.c). */
void vmx_run(struct vcpu *v, struct vmexit *e);
void vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
bool vmx_offer_irq(struct vcpu *v, u8 vector);
bool vmx_offer_nmi(struct vcpu *v);
bool vmx_irq_shadow(struct vcpu *v);
bool vmx_irq_offered(struct vcpu *v);
void vmx_withdraw_irq(struct vcpu *v, u8 vector);
/* After an exit: an event whose delivery the exit interrupted goes again;
 * an interrupt waiting for the window goes now that it is open. */
void vmx_reinject(struct vcpu *v, u32 idt_vectoring);
void vmx_window_open(struct vcpu *v);
void vmx_nmi_window_open(struct vcpu *v);

/* Reset value of the guest PAT (SDM vol. 3, 12.12.4): WB, WT, UC-, UC twice. */
#define PAT_POWER_ON 0x0007040600070406ULL

struct vm;
struct intercept_policy;

/* A VM's I/O and MSR bitmaps from its intercept policy (vmx_maps.c): built
 * by vm_init; vmx_vm_maps_free gives their pages back (VM destroy). */
int vmx_vm_maps_build(struct vm *vm);
void vmx_vm_maps_free(struct vm *vm);
/* The layouts (SDM vol. 3, 25.6.4 and 25.6.9), for the builder and tests:
 * the MSR bitmap's bit of an MSR's read or write, -1 outside the bitmap;
 * filling it returns how many passed accesses stay intercepted. */
long vmx_msr_bitmap_bit(u32 msr, bool write);
unsigned vmx_msr_bitmap_fill(u8 *bitmap, const struct intercept_policy *p);
void vmx_io_bitmap_fill(u8 *ab, const struct intercept_policy *p);

/* The whole vCPU state, and freeing a vCPU's VMCS (vmx_vstate.c). */
struct vcpu_state;
int vmx_get_state(struct vcpu *v, struct vcpu_state *st);
struct vcpu_state_event;
void vmx_pending_event(struct vcpu *v, struct vcpu_state_event *e);
int vmx_set_state(struct vcpu *v, const struct vcpu_state *st);
void vmx_vcpu_destroy(struct vcpu *v);
void vmx_vm_destroy(struct vm *vm);

/* Shadow paging (vmx_shadow.c): the guest's CR0, CR3, CR4 and EFER are
 * in the VMCS but across the entry, when the shadow's are; real mode runs
 * in virtual-8086 mode (vmx_rmode.c), with the guest's segments, TR, IDTR
 * and IOPL kept aside across the entry too. */
struct shadow_hw;
struct vmx_rmode_saved {
	struct seg seg[6];  /* ES, CS, SS, DS, FS, GS as the guest has them */
	u16 vsel[6];        /* the selectors virtual-8086 mode ran with */
	struct seg tr;
	u64 idtr_base;
	u32 idtr_limit;
	u64 iopl;           /* the guest's RFLAGS.IOPL */
};
struct vmx_shadow_saved {
	u64 cr0, cr3, cr4, efer;
	struct vmx_rmode_saved rm;
};
void vmx_shadow_enter(struct vcpu *v, struct vmx_shadow_saved *g);
void vmx_shadow_leave(struct vcpu *v, const struct vmx_shadow_saved *g);
void vmx_shadow_mode(struct vcpu *v);
void vmx_shadow_flush(struct vcpu *v);
void vmx_flush_vpid(struct vcpu *v);
/* VPIDs are 16 bits, 0 the host's (SDM vol. 3, 29.1). */
#define VMX_VPID_LIMIT 0x10000
/* The primary controls of the VM's vCPUs (vmx_vmcs.c). */
u32 vmx_proc_ctls_of(const struct vm *vm);

int vmx_rmode_init(void);
void vmx_rmode_enter(struct vcpu *v, struct vmx_rmode_saved *r, struct shadow_hw *hw);
void vmx_rmode_leave(struct vcpu *v, const struct vmx_rmode_saved *r);
void vmx_rmode_pmode_fixup(struct vcpu *v);
/* An exception exit in virtual-8086 mode: what the core is to do with it. */
enum vmexit_reason vmx_rmode_exception(struct vcpu *v, struct vmexit *e);

/* The VM-instruction error number's meaning (31.4), for reports. */
const char *vmx_insn_error_str(u32 err);

#endif
