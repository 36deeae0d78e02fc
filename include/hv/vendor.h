/*
 * The seam between core/ and a virtualization back end (AMD-V in
 * arch/x86/svm/, VT-x in arch/x86/vmx/). Coarse on purpose: core/ never
 * touches a VMCB or VMCS field.
 */
#ifndef HV_VENDOR_H
#define HV_VENDOR_H

#include "hv/types.h"
#include "hv/guest_ctx.h"
#include "hv/vmexit.h"

struct vm;
struct vcpu;
struct pt_format;
struct vcpu_state;
struct vcpu_state_event;

struct vendor_ops {
	const char *name; /* "svm" or "vmx", as benchmarks print it */

	/* On this physical CPU: check support, turn virtualization on. Prints
	 * why and returns a negative errno when it cannot. */
	int (*cpu_enable)(void);

	/* Whether this CPU has nested paging (NPT, EPT; known after
	 * cpu_enable), and whether the back end can run a VM with shadow page
	 * tables instead (include/hv/shadow.h). A VM's paging= chooses
	 * (core/vm_paging.c). */
	bool (*nested_paging)(void);
	bool shadow_paging;

	/* The format of its nested page tables (NPT or EPT): vm->gmem builds
	 * and owns them (core/gmem.c). */
	const struct pt_format *pt_format;

	/* Per-VM set-up after vm->gmem exists (the EPT pointer from its root). */
	int (*vm_init)(struct vm *vm);

	/* The VMCB/VMCS of a vCPU, from the architectural state ctx and the
	 * general registers already in v->regs. */
	int (*vcpu_init)(struct vcpu *v, const struct guest_ctx *ctx);

	/* Replace the architectural state (INIT, SIPI); v->regs as for vcpu_init.
	 * Runs on the CPU about to run the vCPU, after vcpu_load. */
	void (*set_ctx)(struct vcpu *v, const struct guest_ctx *ctx);

	/* TR, as an emulated LTR loads it (core/exit_ltr.c); NULL on a back end
	 * that does not intercept LTR. */
	void (*load_tr)(struct vcpu *v, const struct seg *tr);

	/* The local APIC's TPR changed (core/vcpu_irq.c): cr8 is TPR[7:4], for
	 * the copy the guest's MOV from CR8 reads without an exit. MOV to CR8
	 * always exits (VMEXIT_CR_ACCESS). */
	void (*set_tpr)(struct vcpu *v, u8 cr8);

	/* The vCPU is about to run on this physical CPU (after running elsewhere,
	 * or another vCPU): switch the hardware's notion of the current guest. */
	void (*vcpu_load)(struct vcpu *v);

	/* The vCPU leaves this physical CPU (end of its slice, halt, stop); it
	 * may run elsewhere next. May be NULL (AMD-V needs nothing; VT-x must
	 * VMCLEAR the VMCS here). */
	void (*vcpu_put)(struct vcpu *v);

	/* Enter the guest with v->regs, return at the next exit, decoded. */
	void (*run)(struct vcpu *v, struct vmexit *exit);

	/* Architectural state beyond the general registers (slow path). */
	void (*get_ctx)(struct vcpu *v, struct guest_ctx *ctx);
	/* Just what finding the trapped instruction needs: cs.attr, cs.base,
	 * cpl, cr0, cr3, cr4, efer (the hot path of every exit without a
	 * known length); the other fields are left as they were. */
	void (*get_paging_ctx)(struct vcpu *v, struct guest_ctx *ctx);

	/* A fault for the guest on its next entry (#GP, #UD, #PF ...). */
	void (*inject_exception)(struct vcpu *v, u8 vector, bool has_error, u32 error);
	/* The event the next entry delivers, in *e (valid 0 when none): after
	 * an exit, one whose delivery the exit interrupted (not an interrupt
	 * only offered). Shadow paging asks it when the guest's tables fault
	 * on the way in (core/exit_shadow.c). */
	void (*pending_event)(struct vcpu *v, struct vcpu_state_event *e);

	/* Hand an external interrupt to the hardware, to be delivered when the
	 * guest can take it (RFLAGS.IF set, no interrupt shadow). False when an
	 * earlier one is still waiting: try again after the next exit. */
	bool (*offer_irq)(struct vcpu *v, u8 vector);
	/* Deliver an NMI at the next entry if the guest can take one now (no
	 * NMI handler running, no event on its way in, no shadow): true when
	 * it will. Otherwise false, and the back end makes sure an exit comes
	 * when the guest can (the handler's IRET, the NMI window); the core
	 * asks again after each exit while an NMI waits. */
	bool (*offer_nmi)(struct vcpu *v);
	/* Is the guest in an interrupt shadow (after STI or MOV SS)? Nothing is
	 * offered then. */
	bool (*irq_shadow)(struct vcpu *v);
	/* Is an offered interrupt still waiting for the guest to take it? */
	bool (*irq_offered)(struct vcpu *v);
	/* Take back an offered interrupt the guest has not taken yet. */
	void (*withdraw_irq)(struct vcpu *v, u8 vector);

	/* Load or store an MSR whose guest value lives in the VMCB/VMCS (EFER,
	 * PAT): only that; arch/x86/emul/msr.c has checked a value before it is
	 * stored. -ENOENT for any other MSR. */
	int (*msr_state)(struct vcpu *v, u32 msr, bool write, u64 *val);

	/* Drop the vCPU's guest TLB entries on this CPU (after a mapping change);
	 * under shadow paging, its shadow tables too. */
	void (*flush_guest_tlb)(struct vcpu *v);

	/* Load CR0, CR2, CR3 or CR4 with a value core/ has checked
	 * (arch/x86/emul/cr.c; EFER, LMA included, stored first through
	 * msr_state), doing what the CPU's own MOV to CRn does besides: VT-x's
	 * read shadows and PDPTEs, a flush of the vCPU's TLB when paging
	 * changes. -EINVAL when the hardware cannot hold the value (a CR4 bit
	 * the CPU lacks, PDPTEs outside guest RAM): the guest gets #GP. */
	int (*set_cr)(struct vcpu *v, unsigned cr, u64 val);
	/* DR6 or DR7 (n), read or written where the back end keeps the
	 * guest's (core/exit_dr.c has checked a value written). NULL on a
	 * back end where MOV DR does not exit. */
	void (*debug_reg)(struct vcpu *v, unsigned n, bool write, u64 *val);
	/*
	 * The vendor's part of the vCPU's whole state (include/hv/vcpu_state.h),
	 * for core/vcpu_state.c, which fills the rest. Only for a quiesced vCPU:
	 * not running anywhere, after vcpu_put (or before its first run); on any
	 * CPU, which need not be the one it last ran on (a back end that needs
	 * its VMCS current makes it so and clears it again). v->regs is
	 * authoritative for the general registers, RIP and RFLAGS.
	 *
	 * get_state: segments, descriptor tables, CR0-CR4, CR8 as the hardware's
	 * copy holds it, DR6, DR7, EFER, PAT, SYSENTER_*, STAR/LSTAR/CSTAR/
	 * SFMASK, KERNEL_GS_BASE, DEBUGCTL, the event the next entry delivers
	 * (not an interrupt only offered), the interrupt shadow if it still
	 * covers RIP, NMI blocking, VT-x's pending debug exceptions and PDPTEs.
	 * set_state: the same back, exactly (core has checked s), the offered
	 * interrupt dropped, the vCPU's TLB tag renewed. 0, or -EBUSY when the
	 * vCPU is loaded on a CPU, -EIO when its VMCS cannot be loaded.
	 */
	int (*get_state)(struct vcpu *v, struct vcpu_state *s);
	int (*set_state)(struct vcpu *v, const struct vcpu_state *s);

	/* Free what vcpu_init allocated (VMCB; VMCS and virtual-APIC page). The
	 * vCPU is quiesced; a VMCS still current on this CPU is VMCLEARed first,
	 * one current on another CPU is a bug of the caller (panic). */
	void (*vcpu_destroy)(struct vcpu *v);
	/* Free what vm_init allocated except the nested page tables (the
	 * guest-physical space frees those). After every vcpu_destroy. */
	void (*vm_destroy)(struct vm *vm);
};

/* The back end chosen at boot (arch/x86/vendor_select.c). */
extern const struct vendor_ops *vendor;

#endif
