/* Every CPU's loop: run vCPUs in slices, deliver their interrupts, handle their exits. */
#include "hv/sched.h"
#include "drivers/iommu.h"
#include "hv/api.h"
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/monitor.h"
#include "hv/netstack.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_apic.h"
#include "hv/vm_clock.h"
#include "hv/vm_console.h"
#include "hv/vm_watchdog.h"
#include "hv/uplink.h"
#include "hv/vm_platform.h"
#include "devices/vlapic.h"
#include "asm/cpu.h"
#include "asm/percpu.h"

/* When CPU 0 looks at guests' watchdogs next (vm_watchdog_poll, every
 * 100 ms): a vCPU that has CPU 0 to itself leaves it for that between
 * slices, or a guest spinning there would hide its own hang (and the
 * lost wake-up rescue, on the same period, would never run either). */
static u64 cpu0_watchdog_next;

static void fpu_switch_in(struct percpu *cpu, struct vcpu *v)
{
	/* The registers still hold v's state only if v last ran here and no
	 * other vCPU has run here since. */
	if (cpu->fpu_owner != v || v->fpu_cpu != (int)cpu->id)
		fxrstor(v->fpu.fxsave);
	cpu->fpu_owner = v;
	v->fpu_cpu = (int)cpu->id;
}

/* The guest's DR0-DR3 live in the CPU while it runs: neither the VMCB nor
 * the VMCS holds them, and MOV DR does not exit. They come and go with the
 * vCPU, once per slice, like its x87/SSE state. */
static void dr_switch_in(const struct vcpu *v)
{
	write_dr0(v->dr[0]);
	write_dr1(v->dr[1]);
	write_dr2(v->dr[2]);
	write_dr3(v->dr[3]);
}

static void dr_switch_out(struct vcpu *v)
{
	v->dr[0] = read_dr0();
	v->dr[1] = read_dr1();
	v->dr[2] = read_dr2();
	v->dr[3] = read_dr3();
}

void vcpu_to_cpu(struct percpu *cpu, struct vcpu *v)
{
	fpu_switch_in(cpu, v);
	dr_switch_in(v);
	cpu->current = v;
	vendor->vcpu_load(v);
}

/* Everything of v's that lives in this CPU goes back to memory before
 * another CPU may pick v up. */
void vcpu_from_cpu(struct percpu *cpu, struct vcpu *v)
{
	/* Everything of v's that lives in this CPU goes back to memory before
	 * another CPU may pick v up. Not in guest mode until it runs again:
	 * nobody waits for it (a VM-wide TLB flush, core/gmem.c). */
	__atomic_store_n(&v->in_guest, 0, __ATOMIC_RELEASE);
	if (vendor->vcpu_put)
		vendor->vcpu_put(v);
	fxsave(v->fpu.fxsave);
	dr_switch_out(v);
	cpu->current = NULL;
}

enum slice_end { END_STOPPED, END_BLOCK, END_REQUEUE };

/* Runs v until its slice ends, it blocks or yields, or its VM ends. */
static void run_slice(struct percpu *cpu, struct vcpu *v)
{
	struct vmexit exit;
	struct vm *vm = v->vm;
	enum slice_end end;
	u64 start;

	vcpu_to_cpu(cpu, v);
	/* Translations of the VM's tables may still be cached where the vCPU
	 * (or a VM before it, with the same root) ran before its last flush:
	 * VT-x tags guest-physical ones by the EPT pointer, not the VPID (SDM
	 * vol. 3, 29.4.1). Arriving on a CPU it did not last flush on, it
	 * flushes before entering (core/gmem_flush.c). */
	if (v->tlb_cpu1 != cpu->id + 1) {
		v->tlb_cpu1 = cpu->id + 1;
		v->tlb_gen = vm->gmem.tlb_gen - 1;
	}
	start = rdtsc();
	if (unlikely(!vm->first_entry_tsc)) {
		u64 zero = 0;

		__atomic_compare_exchange_n(&vm->first_entry_tsc, &zero, start, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	cpu->slice_end = start + sched_slice_tsc;
	cpu->need_resched = false;

	for (;;) {
		if (vm->state != VM_RUNNING) {
			end = END_STOPPED;
			break;
		}
		if (unlikely(v->init_pending || v->wait_sipi) && !vcpu_startup(v)) {
			end = END_BLOCK;
			break;
		}
		/* Its timers due now fire here; the host timer is armed for
		 * the next of them (or the tick) before the guest runs. */
		sched_timer_entry(cpu, v);
		vcpu_irq_prepare(v);

		/* A change to the VM's nested tables since this vCPU's last
		 * flush (core/gmem_flush.c: the store, a full barrier, then the
		 * read; a LOCK OR is both in one instruction). */
		(void)__atomic_fetch_or(&v->in_guest, 1, __ATOMIC_SEQ_CST);
		if (unlikely(v->tlb_gen != vm->gmem.tlb_gen)) {
			v->tlb_gen = vm->gmem.tlb_gen;
			vendor->flush_guest_tlb(v);
		}
		vendor->run(v, &exit);
		vcpu_irq_after_exit(v);

		enum exit_action act = exit_dispatch(v, &exit);

		if (act == ACT_VM_STOP) {
			end = END_STOPPED;
			break;
		}
		if (act == ACT_HALT) {
			end = END_BLOCK;
			break;
		}
		if (act == ACT_YIELD) {
			end = END_REQUEUE;
			break;
		}
		if (cpu->need_resched) {
			cpu->need_resched = false;
			/* The monitor, the network stack and the IOMMU's
			 * fault log (a VM's device may have to be stopped)
			 * are looked at on CPU 0 between slices. */
			if (sched_others_waiting(cpu) ||
			    (cpu->id == 0 && (vm_console_monitor_pending() || netstack_pending() ||
					      iommu_active() || rdtsc() >= cpu0_watchdog_next))) {
				end = END_REQUEUE;
				break;
			}
			cpu->slice_end = rdtsc() + sched_slice_tsc;
		}
	}
	vcpu_from_cpu(cpu, v);
	v->stats.run_tsc += rdtsc() - start;
	if (end == END_REQUEUE)
		sched_enqueue(v);
	else if (end == END_BLOCK ? sched_block(v) : sched_stop(v))
		vm_reset(vm); /* the last of a resetting VM's vCPUs to stop */
	/* Off this CPU, its timers are CPU 0's to watch (after the state
	 * change: CPU 0 skips vCPUs running elsewhere). */
	sched_timer_vcpu_left(v);
}

__noreturn void sched_cpu_loop(void)
{
	struct percpu *cpu = this_cpu();
	/* CPU 0 looks for lost wake-ups every 100 ms (sched_rescue_lost_wakeups). */
	u64 rescue_every = ns_to_tsc(100000000), rescue_next = 0;

	for (;;) {
		if (cpu->id == 0) {
			/* Monitor commands wait for other CPUs to leave a VM:
			 * never in the tick, and with interrupts on. The
			 * hypervisor's own network stack runs here too: its API
			 * calls are monitor commands. */
			cpu->in_monitor = true;
			irq_enable();
			monitor_service();
			netstack_poll();
			/* The API's own timers (a stop's hard deadline). */
			api_poll(tsc_to_ns(rdtsc()) / 1000000);
			/* Guests' watchdogs: acting on one pauses its VM. */
			if (rdtsc() >= cpu0_watchdog_next) {
				cpu0_watchdog_next = rdtsc() + rescue_every;
				vm_watchdog_poll();
			}
			irq_disable();
			cpu->in_monitor = false;
			uplink_poll_deferred();
			/* Not in the tick itself: stopping a VM takes its lock. */
			iommu_poll_faults();
			if (rdtsc() >= rescue_next) {
				rescue_next = rdtsc() + rescue_every;
				sched_rescue_lost_wakeups();
				sched_timer_report();
			}
		}
		irq_disable();
		struct vcpu *v = sched_pick(cpu);

		if (!v) {
			sched_timer_arm(cpu, NULL);
			sched_timer_before_halt(cpu);
			u64 halt = rdtsc();
			safe_halt(); /* woken by the timer or a kick */
			/* The interrupt that woke it has run: that time is counted too. */
			cpu->halted_tsc += rdtsc() - halt;
			continue;
		}
		run_slice(cpu, v);
		irq_enable();
	}
}
