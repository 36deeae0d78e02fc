/*
 * The scheduler: one run queue shared by all physical CPUs, round robin,
 * each vCPU restricted to its affinity mask. A VM pinned to CPUs owns them
 * alone: its vCPUs may run only there, and no other VM's may. A halted vCPU
 * is off the queue and costs nothing until an interrupt wakes it.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "hv/percpu.h"
#include "hv/types.h"

struct vcpu;
struct vm;

/* Tick rate of every CPU's local APIC timer; the slice is a whole number of ticks. */
#define SCHED_TICK_HZ 1000

void sched_init(u32 slice_ms);
/* Queues a new or preempted vCPU (state RUNNABLE). */
void sched_enqueue(struct vcpu *v);
/* Takes the first queued vCPU that may run on this CPU, or NULL. */
struct vcpu *sched_pick(struct percpu *cpu);
/* Is another vCPU waiting that could run on this CPU instead? */
bool sched_others_waiting(struct percpu *cpu);
/* HLT: off the queue until sched_wake(). If the VM has ended or is being
 * reset, the vCPU stops instead; true when it was the last of a resetting VM
 * to stop, and the caller must now call vm_reset. */
bool sched_block(struct vcpu *v);
/* The vCPU has left the CPU for good (its VM ended or is being reset);
 * true as for sched_block. */
bool sched_stop(struct vcpu *v);
/* An event for v: a blocked vCPU goes back on the queue; a running one is
 * kicked out of guest mode so it sees the event. */
void sched_wake(struct vcpu *v);
/* The VM has ended, is being reset or paused (vm->state says which, set
 * first): take its vCPUs off the queue, kick the running ones. A paused VM's
 * vCPUs are parked (blocked ones stay blocked); the others are stopped.
 * True when the VM is being reset and every vCPU is stopped now: the reset
 * is then the caller's to run (vm_reset), as for sched_stop. */
bool sched_vm_leave(struct vm *vm);
/* No vCPU of the VM is on a CPU or in the queue: everything a vCPU holds in
 * a CPU (registers, VMCS, FPU) is back in memory. Polled after sched_vm_leave. */
bool sched_vm_quiet(struct vm *vm);
/* A paused VM runs again: parked vCPUs go back on the queue, blocked ones
 * with an interrupt to take too. vm->state is VM_RUNNING already. */
void sched_vm_resume(struct vm *vm);
/* CPU 0, now and then, with interrupts off: a halted vCPU of a running VM
 * that has an interrupt to take goes back on the queue, and the first few
 * are reported -- a wake-up the hypervisor lost, which should never be seen
 * (a safety net: the guest would otherwise sleep until its next interrupt). */
void sched_rescue_lost_wakeups(void);

/*
 * Bring v onto this CPU and take it off again (core/vcpu_run.c): its
 * x87/SSE state, DR0-DR3, the back end's vcpu_load and vcpu_put. Off the
 * CPU, everything of v is in memory: it is quiesced as hv/vcpu_state.h
 * requires. run_slice does this around every slice; a handler that must
 * quiesce the vCPU it runs does the same (core/hc_vstate.c).
 */
void vcpu_to_cpu(struct percpu *cpu, struct vcpu *v);
void vcpu_from_cpu(struct percpu *cpu, struct vcpu *v);

/*
 * The host timer (core/sched_timer.c, docs/interrupts.md "The tick"): each
 * CPU's local APIC timer is armed for the nearest of its next scheduler
 * tick, the timers of the vCPU it runs and, on CPU 0, the timers of every
 * vCPU not on a CPU and of every VM's devices (PIT, RTC, PM timer).
 *
 * sched_timer_start: on each CPU once, before its loop.
 * sched_tick: the VECTOR_TIMER handler; slice accounting on the tick, the
 * guest timers that are due, then the timer armed again.
 * sched_timer_arm (interrupts off): fires v's timers that are due, then
 * arms for the nearest deadline. Before idling, and before an entry through
 * sched_timer_entry when what the last arming saw has changed.
 * sched_timer_vcpu_left: v has left its CPU (blocked, queued, stopped).
 * sched_timer_changed: a deadline CPU 0 watches moved (a PIT reprogrammed):
 * CPU 0 looks again, at once if it may be armed too late.
 */
void sched_timer_start(void);
void sched_tick(void *ctx);
/* Before the idle HLT: a deadline past whose interrupt has not come is
 * looked at again by the APIC (core/sched_timer.c). */
void sched_timer_before_halt(struct percpu *cpu);
/* CPU 0's loop, interrupts off: says when its timer was found late by the
 * one-CPU backstop since the last call. */
void sched_timer_report(void);
void sched_timer_arm(struct percpu *cpu, struct vcpu *v);
void sched_timer_entry(struct percpu *cpu, struct vcpu *v);
void sched_timer_vcpu_left(struct vcpu *v);
void sched_timer_changed(struct vm *vm);

/* Every CPU's loop: pick a vCPU, run it for a slice, repeat; halt when idle. */
__noreturn void sched_cpu_loop(void);

extern u64 sched_slice_tsc;

#endif
