/* A virtual CPU: its registers, scheduling state, pending events and vendor state. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include "hv/types.h"
#include "hv/vmexit.h"
#include "arch/x86/svm/svm_state.h"
#include "arch/x86/vmx/vmx_state.h"
#include "arch/x86/emul/fetch.h"

/* Register numbers as x86 encodes them in ModRM/REX, so the decoder indexes directly. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	NR_GPRS
};

struct vcpu_regs {
	u64 gpr[NR_GPRS];
	u64 rip;
	u64 rflags;
};

enum vcpu_run_state { /* (struct vcpu_state is the whole saved state: hv/vcpu_state.h) */
	VCPU_RUNNABLE, /* on the run queue */
	VCPU_RUNNING,  /* on a physical CPU */
	VCPU_BLOCKED,  /* halted: waits for an interrupt */
	VCPU_STOPPED,  /* its VM has ended */
	VCPU_PARKED,   /* its VM is paused: off the queue until vm_resume */
};

/* FXSAVE area (SDM vol. 1, 10.5.1): the guest's x87/SSE state while it is off the CPU. */
struct fpu_state {
	u8 fxsave[512];
} __aligned(16);

/* MSR values the hypervisor keeps for the guest (arch/x86/emul/msr.c). */
struct vcpu_msrs {
	u64 mtrr_def_type;
	u64 mtrr_var[16]; /* base/mask pairs 0x200-0x20f */
	u64 mtrr_fixed[11];
	u64 tsc_aux;
	u64 kvm_system_time; /* kvmclock MSRs (devices/pvclock.h), as last written */
	u64 kvm_wall_clock;
	u64 misc_enable;     /* IA32_MISC_ENABLE */
	u64 amd_perf[8];     /* AMD PerfEvtSel0-3, PerfCtr0-3: held, not counting */
};

/* x87 and SSE state at power-on (core/vm.c). */
void fpu_reset(struct fpu_state *f);

/*
 * What the monitor's list and info show (core/monitor.c). Written only by
 * the CPU running the vCPU, read by the monitor without a lock (aligned
 * 64-bit words: a read sees the old or the new value). The total of exits
 * is the sum by reason, so the exit path pays one increment.
 */
struct vcpu_stats {
	u64 exits[NR_VMEXIT_REASONS]; /* by reason (core/exit.c) */
	u64 irqs_injected; /* interrupts the guest took (core/vcpu_irq.c) */
	u64 nmis_injected; /* NMIs handed to the hardware for the next entry */
	u64 hlt_in_shadow; /* HLTs completed by the hypervisor after STI (arch/x86/svm/svm_exit.c) */
	u64 run_tsc;       /* host TSC ticks in guest slices (core/vcpu_run.c) */
};

struct vm;
struct shadow_mmu;

struct vcpu {
	/* Saved by the world switch (arch/x86/svm/svm_run.S expects offset 0). */
	struct vcpu_regs regs;
	struct vm *vm;
	u32 id;

	/* Scheduling, guarded by the scheduler lock (core/sched.c). */
	enum vcpu_run_state state;
	struct vcpu *rq_next;
	u64 affinity;   /* physical CPUs it may run on */
	int cpu;        /* where it runs or last ran; -1 before its first run */
	bool halted_if0; /* blocked by HLT with RFLAGS.IF clear: only the VM's end wakes it */
	bool wait_sipi;  /* an application processor waiting for INIT-SIPI (Linux guests) */
	volatile bool init_pending; /* INIT arrived: reset into wait-for-SIPI */
	volatile int sipi_vector;   /* a start-up IPI's vector while waiting, else -1 */
	bool reset_pending;  /* the VM was reset: take the start state (with init_pending set) */

	/* Events, set from any CPU. */
	struct vlapic *lapic;  /* its local APIC (devices/vlapic.h) */
	volatile bool irq_work; /* something may have changed what to deliver: look before entry */
	int offered;           /* the vector handed to the hardware, -1: none (core/vcpu_irq.c) */
	bool offered_lapic;    /* ... from the local APIC (else from irq_pending) */
	bool offered_extint;   /* ... from the PICs, through LINT0 (an ExtINT) */
	/* The VM's 8259s, whose INT output is wired to this vCPU's LINT0 (the
	 * BSP's, as on a PC); NULL on the other vCPUs (core/vcpu_irq.c). */
	struct pic8259 *extint;
	u64 irq_pending[4];  /* vectors outside the local APIC (HC_TIMER), no EOI needed */
	u64 timer_deadline;  /* guest TSC at which timer_vector is raised; 0: none */
	u8 timer_vector;

	/* Guest TLB coherence with the VM's nested tables (core/gmem_flush.c):
	 * the gmem tlb_gen of its last flush, and whether it may be in guest
	 * mode (set before the generation check at each entry, cleared when it
	 * leaves its CPU or starts a flush itself). */
	u64 tlb_gen;
	volatile u8 in_guest;
	u32 tlb_cpu1; /* 1 + the CPU it last flushed on; 0: none yet */

	/* The code page of the last trapped instruction: only the CPU running
	 * this vCPU touches it (arch/x86/emul/fetch.h). */
	struct insn_fetch_cache fetch_cache;
	/* Its shadow tables when the VM has vm->shadow, else NULL: only the CPU
	 * running it touches them, in exits (include/hv/shadow.h). */
	struct shadow_mmu *shadow;

	struct vcpu_stats stats;

	struct vcpu_msrs msrs;
	u64 dr[4];      /* DR0-DR3 while it is off the CPU (core/vcpu_run.c) */
	int fpu_cpu;    /* the CPU whose registers last held its x87/SSE state */
	struct fpu_state fpu;

	union {
		struct svm_vcpu svm;
		struct vmx_vcpu vmx;
	} arch;
};

/* Interrupt delivery (core/vcpu_irq.c). */
/* Marks a vector pending outside the local APIC and wakes the vCPU. */
void vcpu_raise_irq(struct vcpu *v, u8 vector);
/* Takes back a vector raised with vcpu_raise_irq that the guest has not taken. */
void vcpu_cancel_irq(struct vcpu *v, u8 vector);
/* Before entry: hand the hardware the best interrupt to deliver. */
void vcpu_irq_prepare(struct vcpu *v);
/* After an exit: did the guest take what was offered? */
static inline void vcpu_irq_after_exit(struct vcpu *v);
/* Could an interrupt be taken now if the guest had RFLAGS.IF set? */
bool vcpu_irq_deliverable(struct vcpu *v);

void vcpu_irq_taken(struct vcpu *v);
static inline void vcpu_irq_after_exit(struct vcpu *v)
{
	if (unlikely(v->offered >= 0))
		vcpu_irq_taken(v);
}

#endif
