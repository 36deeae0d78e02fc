/* Per physical CPU data, reached through GS (arch/x86/include/asm/percpu.h). */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include "hv/config.h"
#include "hv/tlb_tag.h"
#include "hv/types.h"

struct vcpu;

struct percpu {
	struct percpu *self;  /* offset 0: this_cpu() reads %gs:0 */
	u32 id;               /* 0 .. nr_cpus-1, the boot CPU is 0 */
	u32 apic_id;
	bool online;
	u64 stack_top;

	struct vcpu *current;      /* the vCPU running here, or NULL */
	struct vcpu *fpu_owner;    /* whose x87/SSE state is in the registers */
	volatile bool need_resched; /* set by the tick or a kick IPI */
	u64 slice_end;             /* TSC when the current vCPU's slice ends */
	u64 ticks;
	/* The host timer (core/sched_timer.c): the TSC of the next scheduler
	 * tick, and what the timer is armed for (0: not armed). Written by
	 * this CPU with interrupts off or in its timer handler; timer_armed
	 * of CPU 0 is read by others. */
	u64 tick_next;
	u64 timer_armed;
	/* What the last arming saw of the vCPU it was for: while these still
	 * hold, an entry need not look again (sched_timer_entry). */
	struct vcpu *timer_v;
	u64 timer_v_hc, timer_v_lapic;
	u64 watch_ticks; /* the next CPU's ticks when this one last looked (core/sched_timer.c) */
	/* CPU 0 runs a monitor command, with interrupts on: an interrupt
	 * handler must not take a VM's device locks (core/uplink.c). */
	volatile bool in_monitor;

	/* TLB tags (ASIDs, VPIDs) are handed out per CPU (hv/tlb_tag.h). */
	struct tlb_tag_pool tlb_tags;

	/* Vendor per-CPU areas (host save area, host VMCB / VMXON region). */
	u64 vendor_area[2];
	void *gdt, *tss;
	u64 halted_tsc; /* TSC ticks spent halted in the CPU loop, idle */
};

extern struct percpu percpu_area[MAX_CPUS];
extern unsigned nr_cpus;

/* Which per-CPU block a GS base points at: its index, or -1 if none. */
int percpu_index_of(u64 base);

#endif
