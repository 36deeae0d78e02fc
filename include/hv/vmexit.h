/*
 * A VM exit in vendor-neutral form. The back end decodes its hardware exit
 * (VMCB EXITCODE/EXITINFO, VMCS exit reason/qualification) into this; core/
 * dispatches it through one table (core/exit.c).
 */
#ifndef HV_VMEXIT_H
#define HV_VMEXIT_H

#include "hv/types.h"

enum vmexit_reason {
	VMEXIT_NONE,        /* entered and left without a reason to act (e.g. a kick) */
	VMEXIT_CPUID,
	VMEXIT_MSR_READ,
	VMEXIT_MSR_WRITE,
	VMEXIT_IO,
	VMEXIT_HLT,
	VMEXIT_HYPERCALL,   /* VMMCALL or VMCALL */
	VMEXIT_MEM,         /* nested page fault / EPT violation */
	VMEXIT_SHUTDOWN,    /* shutdown / triple fault */
	VMEXIT_INTR,        /* a host interrupt arrived in guest mode */
	VMEXIT_IRQ_WINDOW,  /* the guest can now take an interrupt */
	VMEXIT_XSETBV,
	VMEXIT_INVD,
	VMEXIT_UD,          /* an instruction the guest must see as undefined
			       (SVM/VMX instructions, MONITOR/MWAIT, RDTSCP, RDPRU) */
	VMEXIT_CR_ACCESS,   /* MOV to or from a control register (cr): CR8 writes
			       always (the local APIC's TPR); CR4 writes on AMD-V;
			       on VT-x the CR0/CR4 writes that change a bit VMX
			       operation fixes or CPUID may hide */
	VMEXIT_DR_ACCESS,   /* MOV to or from a debug register (dr), on AMD-V
			       (core/exit_dr.c says why) */
	VMEXIT_INVLPG,      /* INVLPG (invlpg), when the VM's policy intercepts it
			       (and so, on VT-x, INVPCID) */
	VMEXIT_EXCEPTION,   /* an exception the VM's policy intercepts (exc); #MC
			       is VMEXIT_MACHINE_CHECK */
	VMEXIT_MACHINE_CHECK,
	VMEXIT_LTR,         /* LTR, on AMD-V (core/exit_ltr.c: QEMU's TCG loads a null TR) */
	VMEXIT_RDTSC,       /* RDTSC, while the VM's TSC is scaled (hv/vm_clock.h) */
	VMEXIT_ENTRY_FAIL,  /* VMRUN / VM entry refused the state */
	VMEXIT_UNHANDLED,   /* an exit the back end does not translate */
	NR_VMEXIT_REASONS
};

/* "io", "hlt", ...: the reason's name for people and the API (core/vmexit_names.c). */
const char *vmexit_name(unsigned reason);

struct vmexit {
	enum vmexit_reason reason;
	/* Length of the trapped instruction when the CPU told us (NRIP, VM-exit
	 * instruction length); 0 means the dispatcher decodes it from guest memory. */
	u8 insn_len;
	/* The raw hardware code; its information only for the exits that end
	 * in a report (VMEXIT_MACHINE_CHECK and after). */
	u64 hw_code;
	u64 hw_info1, hw_info2;
	union {
		struct {
			u16 port;
			u8 size;     /* 1, 2 or 4 */
			bool in;
			bool string; /* INS/OUTS */
			bool rep;
		} io;
		struct {
			u8 cr;    /* 0, 2, 3, 4 or 8 */
			bool write; /* MOV to CRn; else MOV from CRn */
			int gpr;  /* the register operand; -1: the handler decodes the
				     instruction (AMD-V without decode assists) */
		} cr;
		struct {
			u8 dr;    /* 0-7: DR4 and DR5 as the instruction named them */
			bool write; /* MOV to DRn; else MOV from DRn */
			int gpr;  /* the register operand; -1: the handler decodes it */
		} dr;
		struct {
			u64 addr;   /* the linear address operand */
			bool known; /* addr is valid; else the handler decodes it */
			/* INVPCID, which exits with INVLPG on VT-x: its type
			 * register's value instead of an address. */
			bool invpcid;
			int type_gpr;
		} invlpg;
		struct {
			u8 vector;
			bool has_error;
			u32 error;
			u64 address; /* #PF: the faulting linear address (CR2 to be) */
		} exc;
		struct {
			u8 cpl; /* the caller's privilege level */
		} hypercall;
		struct {
			u64 gpa;
			bool write;
			bool fetch;
			bool present; /* a mapping existed (a permission fault) */
			bool walk;    /* the CPU was reading the guest's page tables, not the data */
		} mem;
	};
};

/* What a handler asks the dispatcher to do. Only the dispatcher moves RIP. */
enum exit_action {
	ACT_RESUME,   /* re-enter at the same RIP (e.g. an event was injected) */
	ACT_SKIP,     /* move RIP past the trapped instruction, then re-enter */
	ACT_HALT,     /* skip, then block the vCPU until an event */
	ACT_YIELD,    /* skip, then let another vCPU run */
	ACT_VM_STOP,  /* stop this VM; the handler has said why */
};

#endif
