/* A virtual CPU: its registers, scheduling state, pending events and vendor state. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include "hv/types.h"
#include "hv/vmexit.h"
#include "arch/x86/svm/svm_state.h"
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

enum vcpu_state {
	VCPU_RUNNABLE, /* on the run queue */
	VCPU_RUNNING,  /* on a physical CPU */
	VCPU_BLOCKED,  /* halted: waits for an interrupt */
	VCPU_STOPPED,  /* its VM has ended */
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
};

struct vm;

struct vcpu {
	/* Saved by the world switch (arch/x86/svm/svm_run.S expects offset 0). */
	struct vcpu_regs regs;
	struct vm *vm;
	u32 id;

	/* Scheduling, guarded by the scheduler lock (core/sched.c). */
	enum vcpu_state state;
	struct vcpu *rq_next;
	u64 affinity;   /* physical CPUs it may run on */
	int cpu;        /* where it runs or last ran; -1 before its first run */
	bool halted_if0; /* blocked by HLT with RFLAGS.IF clear: only the VM's end wakes it */

	/* Events, set from any CPU. */
	u64 irq_pending[4];  /* bitmap of external interrupt vectors to deliver */
	u64 timer_deadline;  /* TSC value at which timer_vector is raised; 0: none */
	u8 timer_vector;

	/* The code page of the last trapped instruction: only the CPU running
	 * this vCPU touches it (arch/x86/emul/fetch.h). */
	struct insn_fetch_cache fetch_cache;

	struct vcpu_msrs msrs;
	int fpu_cpu;    /* the CPU whose registers last held its x87/SSE state */
	struct fpu_state fpu;
	u64 exit_count[NR_VMEXIT_REASONS];

	union {
		struct svm_vcpu svm;
	} arch;
};

/* Marks an external interrupt pending and wakes the vCPU if it is halted. */
void vcpu_raise_irq(struct vcpu *v, u8 vector);

#endif
