/*
 * Everything a vCPU is, in one vendor-neutral structure: what a snapshot
 * saves, migration sends, and set_state puts back so the vCPU continues as
 * if it had never stopped (core/vcpu_state.c, vendor get_state/set_state).
 *
 * Plain data: fixed-size fields, explicit padding, no pointers; times are
 * the guest's TSC, never the host's. Segment attributes are in the packed
 * 12-bit form of include/hv/guest_ctx.h on both vendors.
 */
#ifndef HV_VCPU_STATE_H
#define HV_VCPU_STATE_H

#include "hv/types.h"
#include "devices/vlapic_state.h"

/* 2: IA32_MISC_ENABLE and AMD's PerfEvtSel0-3/PerfCtr0-3 in msrs. */
#define VCPU_STATE_VERSION 2

struct vcpu_state_seg {
	u64 base;
	u32 limit;
	u16 sel;
	u16 attr; /* SEG_ATTR_* (hv/guest_ctx.h) */
};

struct vcpu_state_dtable {
	u64 base;
	u32 limit;
	u32 pad;
};

/* Event types as VT-x numbers them in the VM-entry interruption-information
 * field (SDM vol. 3, 25.8.3); AMD-V's EVENTINJ types (APM vol. 2, 15.20)
 * map onto them. */
enum vcpu_event_type {
	VCPU_EVENT_EXT_INTR = 0,
	VCPU_EVENT_NMI = 2,
	VCPU_EVENT_HW_EXCEPTION = 3,
	VCPU_EVENT_SW_INTR = 4,          /* INT n */
	VCPU_EVENT_PRIV_SW_EXCEPTION = 5, /* INT1 (ICEBP) */
	VCPU_EVENT_SW_EXCEPTION = 6,     /* INT3, INTO */
};

/* An event the next entry delivers: one whose delivery an exit interrupted,
 * or a fault an exit handler raised. An external interrupt the core only
 * offered (V_IRQ, the interrupt window) is not one: it is still in the
 * local APIC's IRR or in irq_pending, and is offered again. */
struct vcpu_state_event {
	u8 valid;
	u8 type;        /* enum vcpu_event_type */
	u8 vector;
	u8 has_error;
	u32 error;
	u32 insn_len;   /* software events on VT-x: the length of the instruction at RIP */
	u32 pad;
};

#define VCPU_SHADOW_STI BIT(0)    /* blocking by STI (VT-x interruptibility bit 0) */
#define VCPU_SHADOW_MOV_SS BIT(1) /* blocking by MOV SS or POP SS (bit 1) */

enum vcpu_activity {
	VCPU_ACTIVITY_RUNNING = 0, /* runnable: on the run queue when the VM runs */
	VCPU_ACTIVITY_HALTED = 1,  /* HLT: waits for an interrupt */
	VCPU_ACTIVITY_WAIT_SIPI = 2, /* an application processor waiting for INIT-SIPI */
};

/* The MSRs of include/hv/vcpu.h's struct vcpu_msrs, as their own copy so
 * the layout here does not move with that structure. */
struct vcpu_state_msrs {
	u64 efer;          /* as the guest reads it (without SVME) */
	u64 pat;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 tsc_aux;
	u64 mtrr_def_type;
	u64 mtrr_var[16];
	u64 mtrr_fixed[11];
	u64 kvm_system_time, kvm_wall_clock;
	u64 debugctl;
	u64 misc_enable;   /* IA32_MISC_ENABLE (arch/x86/emul/msr.h) */
	u64 amd_perf[8];   /* AMD PerfEvtSel0-3, PerfCtr0-3 (held, not counting) */
};

struct vcpu_state {
	u32 version;       /* VCPU_STATE_VERSION */
	u32 id;            /* the vCPU's index in its VM */

	/* General registers (enum gpr order), RIP, RFLAGS. */
	u64 gpr[16];
	u64 rip, rflags;

	struct vcpu_state_seg es, cs, ss, ds, fs, gs, tr, ldtr;
	struct vcpu_state_dtable gdtr, idtr;
	u64 cr0, cr2, cr3, cr4;
	u64 cr8;           /* TPR[7:4]; the same as lapic.tpr >> 4 when the APIC is modelled */
	u64 dr[4];         /* DR0-DR3 */
	u64 dr6, dr7;
	/* VT-x only (0 on AMD-V): pending debug exceptions (SDM vol. 3, 25.4.2),
	 * and the PDPTEs PAE paging without long mode uses (27.3.2.4), which the
	 * CPU loaded at the last MOV to CR3 and need not match memory now. */
	u64 pending_dbg;
	u64 pdpte[4];
	struct vcpu_state_msrs msrs; /* (version 1 had a u64 of padding after it) */

	u8 fxsave[512];    /* FXSAVE image (SDM vol. 1, 10.5.1): x87, MMX, XMM0-15, MXCSR */

	struct vcpu_state_event event;
	u8 shadow;         /* VCPU_SHADOW_* */
	u8 nmi_blocked;    /* an NMI handler runs and has not returned (blocking by NMI) */
	u8 activity;       /* enum vcpu_activity */
	u8 halted_if0;     /* halted with RFLAGS.IF clear: only the VM's end wakes it */
	u8 has_lapic;      /* lapic below holds a modelled local APIC */
	u8 init_pending;   /* an INIT arrived that the vCPU has not acted on yet */
	u8 sipi_pending;   /* a start-up IPI arrived while it waited (or INIT was pending) */
	u8 sipi_vector;    /* ... with this vector */

	/* Vectors raised outside the local APIC (HC_TIMER), not yet taken. */
	u64 irq_pending[4];
	/* HC_TIMER: the guest TSC at which timer_vector is raised; 0: none. */
	u64 timer_deadline;
	u8 timer_vector;
	u8 pad2[7];

	struct vlapic_state lapic;
};

struct vcpu;

/*
 * A vCPU's whole state (core/vcpu_state.c): the generic parts (general
 * registers, DR0-DR3, x87/SSE, the MSRs struct vcpu keeps, the local APIC,
 * interrupts raised outside it, HC_TIMER, the scheduler's flags) and the
 * back end's (vendor get_state/set_state).
 *
 * When: the vCPU is quiesced. It runs on no CPU: its last slice ended (the
 * back end's vcpu_put and the FPU's fxsave are done), and nothing puts it
 * on a CPU until the caller is finished. Any CPU may call. The VM's devices
 * and clock are the caller's (hv/vm_clock.h, the device list).
 *
 * vcpu_get_state fills all of *s. -EBUSY while a VM reset is under way for
 * it, or if the back end finds the vCPU still loaded on a CPU.
 *
 * vcpu_set_state puts s back exactly, not a reset: the vCPU continues as if
 * it had never stopped, whether s was taken from it or from another vCPU
 * (a restored VM). -EINVAL, and nothing changed, for a state a guest could
 * not have reached (vcpu_state_check), an APIC state this vCPU's APIC could
 * not have (vlapic_load), or a vCPU with or without a local APIC where s
 * says otherwise. What it does not do: put the vCPU on the run queue; the
 * caller does that unless s->activity says it halted or waits for SIPI.
 */
int vcpu_get_state(struct vcpu *v, struct vcpu_state *s);
int vcpu_set_state(struct vcpu *v, const struct vcpu_state *s);

/* Could a guest have brought its vCPU into s (core/vcpu_state_check.c)? 0,
 * or -EINVAL: a wrong version, reserved bits in RFLAGS, CR0, CR4, EFER, MXCSR
 * or the MSRs, bits 63:32 of DR6 or DR7, EFER.LMA that does not follow LME and CR0.PG, a
 * non-canonical RIP in 64-bit mode (or RIP above 4 GiB outside it), a
 * non-canonical address where the CPU takes only canonical ones (FS/GS
 * base, descriptor tables, LSTAR, DR0-DR3 ...), an impossible event, shadow,
 * activity or padding. Host-testable. */
int vcpu_state_check(const struct vcpu_state *s);

_Static_assert(sizeof(struct vcpu_state) % 8 == 0 &&
	       __builtin_offsetof(struct vcpu_state, fxsave) % 16 == 0,
	       "vcpu_state: 8-byte fields, FXSAVE image 16-byte aligned");

#endif
