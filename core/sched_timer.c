/*
 * Exact guest timers: each CPU's host timer is a deadline, armed for the
 * nearest of its next scheduler tick and the guest timers it is in charge
 * of (hv/sched.h; docs/interrupts.md, "The tick"):
 *   - every CPU: the vCPU it runs (local APIC timer, HC_TIMER), checked
 *     before each entry and on each expiry;
 *   - CPU 0 also: every vCPU that is not running elsewhere (halted, queued)
 *     and every VM's platform timers (PIT, RTC, PM timer), as the 1 kHz
 *     tick did for all of them before.
 * A running vCPU's own timer writes are seen at its next entry, on its CPU,
 * without an IPI; what CPU 0 watches changes rarely (a vCPU leaving its
 * CPU, a PIT reprogrammed), and only then may CPU 0 be kicked.
 */
#include "hv/sched.h"
#include "hv/console.h"
#include "hv/netstack.h"
#include "hv/platform.h"
#include "hv/uplink.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "hv/vm_console.h"
#include "hv/vm_platform.h"
#include "devices/vlapic.h"
#include "asm/cpu.h"
#include "asm/percpu.h"

#define NO_DEADLINE (~0ULL)

static u64 tick_tsc;           /* one scheduler tick in TSC ticks */
static u64 watch_deadline = NO_DEADLINE; /* CPU 0's: host TSC of the nearest it watches */
static bool watch_dirty = true; /* something CPU 0 watches may have moved: look again */

/* HC_TIMER deadlines, in the guest's TSC. */
static void fire_timer(struct vcpu *v, u64 now)
{
	u64 d = __atomic_load_n(&v->timer_deadline, __ATOMIC_ACQUIRE);

	if (d && now >= d && __atomic_compare_exchange_n(&v->timer_deadline, &d, 0, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		vcpu_raise_irq(v, v->timer_vector);
}

/* v's guest timers that are due at host TSC now raise their vectors (the
 * local APIC's wakes or kicks the vCPU through its wake callback). */
static void vcpu_timers_check(struct vcpu *v, u64 guest_now)
{
	fire_timer(v, guest_now);
	if (v->lapic)
		vlapic_timer_check(v->lapic, guest_now);
}

static u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }

/* The nearest of v's guest timers, in host TSC; NO_DEADLINE if none or its
 * VM's clock stands still. */
static u64 vcpu_deadline(const struct vcpu *v)
{
	const struct vm *vm = v->vm;
	u64 d = __atomic_load_n(&v->timer_deadline, __ATOMIC_ACQUIRE);
	u64 l = v->lapic ? vlapic_next_deadline(v->lapic) : 0;

	if (l && (!d || l < d))
		d = l;
	if (!d || __atomic_load_n(&vm->clock.stopped, __ATOMIC_ACQUIRE))
		return NO_DEADLINE;
	return vm_clock_host_tsc(&vm->clock, d);
}

/* The nearest of vm's platform timers, in host TSC (their clock is the
 * guest TSC in ns: core/vm_platform.c). One TSC tick late rather than one
 * early, so the device finds itself due when the timer fires. */
static u64 devices_deadline(const struct vm *vm)
{
	u64 best = NO_DEADLINE;

	for (unsigned i = 0; i < vm->devices.nr; i++) {
		const struct vm_device *d = &vm->devices.list[i];
		u64 ns;

		if (!d->ops->next_event_ns)
			continue;
		ns = d->ops->next_event_ns(d->dev);
		if (ns != NO_DEADLINE)
			best = min_u64(best, vm_clock_host_tsc(&vm->clock, vm_guest_tsc_of_ns(vm, ns)));
	}
	return best;
}

/* CPU 0: the nearest deadline of every running VM's devices and of every
 * vCPU not running on another CPU (a stale state read costs at most one
 * tick: the scan is repeated on each of CPU 0's ticks). */
static u64 watch_scan(void)
{
	u64 best = NO_DEADLINE;

	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];

		if (!vm || vm->state != VM_RUNNING ||
		    __atomic_load_n(&vm->clock.stopped, __ATOMIC_ACQUIRE))
			continue;
		best = min_u64(best, devices_deadline(vm));
		for (unsigned j = 0; j < vm->nr_vcpus; j++) {
			struct vcpu *v = vm->vcpus[j];

			if (__atomic_load_n(&v->state, __ATOMIC_RELAXED) == VCPU_RUNNING &&
			    v->cpu != 0)
				continue;
			best = min_u64(best, vcpu_deadline(v));
		}
	}
	return best;
}

/* CPU 0, on every expiry: the platform timers and every vCPU's, as the
 * 1 kHz tick did (a vCPU running elsewhere too: harmless, its own CPU
 * usually got there first). */
static void vm_timers_check(u64 now)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];
		u64 guest_now;

		if (!vm || vm->state != VM_RUNNING)
			continue;
		vm_platform_tick(vm);
		guest_now = vm_guest_tsc_at(vm, now);
		for (unsigned j = 0; j < vm->nr_vcpus; j++)
			vcpu_timers_check(vm->vcpus[j], guest_now);
	}
	__atomic_store_n(&watch_dirty, true, __ATOMIC_SEQ_CST);
}

/* vcpu_deadline for the vCPU this CPU runs, on every arming: its VM runs,
 * so its clock does (a VM's clock stops only once its vCPUs are off their
 * CPUs). A 0 deadline, none, becomes the largest by the - 1. The raw
 * deadlines it used are kept for sched_timer_entry. */
static inline u64 running_deadline(struct percpu *cpu, const struct vcpu *v)
{
	u64 d = __atomic_load_n(&v->timer_deadline, __ATOMIC_RELAXED);
	u64 l = v->lapic ? vlapic_next_deadline(v->lapic) : 0;

	cpu->timer_v_hc = d;
	cpu->timer_v_lapic = l;
	if (l - 1 < d - 1)
		d = l;
	return d ? vm_clock_host_tsc(&v->vm->clock, d) : NO_DEADLINE;
}

/* v's timer is due or nearly so: fire what is due, then its next deadline. */
static __attribute__((noinline)) u64 vcpu_due(struct vcpu *v, u64 vd)
{
	u64 now = rdtsc();

	if (vd > now)
		return vd;
	vcpu_timers_check(v, vm_guest_tsc_at(v->vm, now)); /* raised now, taken at this entry */
	return vcpu_deadline(v); /* a periodic timer's next */
}

/* CPU 0: what it watches changed; the nearest deadline anew. */
static __attribute__((noinline)) void watch_rescan(void)
{
	if (__atomic_exchange_n(&watch_dirty, false, __ATOMIC_SEQ_CST))
		watch_deadline = watch_scan();
}

void sched_timer_arm(struct percpu *cpu, struct vcpu *v)
{
	u64 want, vd;

again:
	want = cpu->tick_next;
	if (cpu->id == 0) {
		if (unlikely(__atomic_load_n(&watch_dirty, __ATOMIC_RELAXED)))
			watch_rescan();
		want = min_u64(want, watch_deadline);
	}
	cpu->timer_v = v;
	if (v) {
		vd = running_deadline(cpu, v);
		if (unlikely(vd < want))
			want = min_u64(want, vcpu_due(v, vd));
	}
	if (likely(want == cpu->timer_armed))
		return;
	__atomic_store_n(&cpu->timer_armed, want, __ATOMIC_SEQ_CST);
	timer_deadline_set(want);
	/* A change noted between the scan and the store above saw the old
	 * armed value and may have sent no kick: look again. A change noted
	 * after this load sees the new value (watch_changed). */
	if (cpu->id == 0 && __atomic_load_n(&watch_dirty, __ATOMIC_SEQ_CST))
		goto again;
}

/*
 * Before HLT: the deadline the host timer was armed for has passed and its
 * interrupt has not come (sched_tick zeroes timer_armed). Under QEMU 7.2's
 * TCG this was seen to last for good: the vector waiting in the local APIC's
 * IRR, the CPU halted with interrupts on, PPR 0, and nothing in QEMU asking
 * the CPU to take it (hltwake-two, one run in a few with two QEMUs busy; an
 * NMI from QEMU's monitor did not help, and sched_timer_arm, seeing the same
 * deadline still armed, wrote nothing to the APIC). A write to the APIC
 * makes it look again; on a CPU the interrupt is simply taken at the STI.
 */
void sched_timer_before_halt(struct percpu *cpu)
{
	u64 armed = cpu->timer_armed;

	if (unlikely(armed && rdtsc() >= armed))
		apic_reevaluate();
}

/*
 * The same lost interrupt can strand a CPU already asleep in HLT, where it
 * cannot look. So every WATCH_TICKS of its ticks each CPU looks at the next
 * one's tick count: one that has not moved has slept through its timer (its
 * tick is armed at all times) and gets a kick, an IPI, whose arrival makes
 * its APIC deliver what waits. Harmless when that CPU merely had interrupts
 * off for that long.
 */
#define WATCH_TICKS 16

static void watch_next_cpu(struct percpu *cpu)
{
	struct percpu *next = &percpu_area[(cpu->id + 1) % nr_cpus];
	u64 t = __atomic_load_n(&next->ticks, __ATOMIC_RELAXED);

	if (t == cpu->watch_ticks && __atomic_load_n(&next->online, __ATOMIC_ACQUIRE))
		ipi_send(next->id, VECTOR_KICK);
	cpu->watch_ticks = t;
}

/*
 * One CPU alone has no neighbour to kick it: a second timer, the PIT's, comes
 * about 18 times a second instead (timer_backstop_start), and its arrival
 * makes the APIC deliver what waits; the TPR write here makes sure. Its own
 * timer's interrupt may well be a tick late then (an emulator's timer thread
 * serves both and runs late under load). Later than two of the PIT's periods
 * means the backstop did not help, or CPU 0 had interrupts off that long:
 * CPU 0's loop says so, outside the interrupt.
 */
#define BACKSTOP_LATE_NS 110000000ULL

static unsigned backstop_late;

static void backstop_tick(void)
{
	u64 armed = this_cpu()->timer_armed;

	if (armed && rdtsc() >= armed + ns_to_tsc(BACKSTOP_LATE_NS))
		backstop_late++;
	apic_reevaluate();
}

void sched_timer_report(void)
{
	static unsigned said;
	unsigned n = __atomic_load_n(&backstop_late, __ATOMIC_RELAXED);

	if (n != said) {
		said = n;
		kprintf("sched: CPU 0's timer interrupt was over 110 ms late when the PIT's came "
			"(%u so far)\n", n);
	}
}

/* Before every entry: nothing the last arming depended on has changed
 * (the same vCPU, its deadlines as they were, CPU 0's watch clean; the
 * tick and expiries re-arm in the handler) -- then no need to look. */
void sched_timer_entry(struct percpu *cpu, struct vcpu *v)
{
	if (likely(cpu->timer_v == v &&
		   __atomic_load_n(&v->timer_deadline, __ATOMIC_RELAXED) == cpu->timer_v_hc &&
		   (v->lapic ? vlapic_next_deadline(v->lapic) : 0) == cpu->timer_v_lapic &&
		   (cpu->id != 0 || !__atomic_load_n(&watch_dirty, __ATOMIC_RELAXED))))
		return;
	sched_timer_arm(cpu, v);
}

/* Something CPU 0 watches moved to host TSC d (NO_DEADLINE: unknown). */
static void watch_changed(u64 d)
{
	struct percpu *cpu0 = &percpu_area[0];

	__atomic_store_n(&watch_dirty, true, __ATOMIC_SEQ_CST);
	if (this_cpu()->id != 0 && d < __atomic_load_n(&cpu0->timer_armed, __ATOMIC_SEQ_CST))
		ipi_send(0, VECTOR_KICK); /* CPU 0 arms again on its way back to a guest or to HLT */
}

void sched_timer_vcpu_left(struct vcpu *v)
{
	u64 d = vcpu_deadline(v);

	/* Its clock may move while it is away (a restore sets a new offset):
	 * the next entry here looks afresh. */
	this_cpu()->timer_v = NULL;

	if (d != NO_DEADLINE)
		watch_changed(d);
}

void sched_timer_changed(struct vm *vm)
{
	(void)vm;
	watch_changed(0); /* where to, the device knows under its lock: let CPU 0 look */
}

void sched_timer_start(void)
{
	struct percpu *cpu = this_cpu();

	if (cpu->id == 0) {
		tick_tsc = ns_to_tsc(1000000000ULL / SCHED_TICK_HZ);
		if (tick_tsc == 0)
			tick_tsc = 1;
	}
	timer_deadline_start();
	if (cpu->id == 0)
		kprintf("sched: host timer in %s mode, armed for the next tick or guest timer\n",
			timer_deadline_mode());
	cpu->timer_armed = 0;
	cpu->tick_next = rdtsc() + tick_tsc;
	irq_disable();
	sched_timer_arm(cpu, NULL);
	if (cpu->id == 0 && nr_cpus == 1) {
		timer_backstop_start(backstop_tick);
		kprintf("sched: one CPU: the PIT's IRQ 0 at 18.2 Hz backs its timer up\n");
	}
}

void sched_tick(void *ctx)
{
	struct percpu *cpu = this_cpu();
	u64 now = rdtsc();

	(void)ctx;
	cpu->timer_armed = 0; /* spent: armed anew below */
	if (now >= cpu->tick_next) {
		cpu->ticks++;
		cpu->tick_next += tick_tsc;
		if (cpu->tick_next <= now) /* ticks missed: no burst to catch up */
			cpu->tick_next = now + tick_tsc;
		if (cpu->current && now >= cpu->slice_end)
			cpu->need_resched = true;
		if (nr_cpus > 1 && cpu->ticks % WATCH_TICKS == 0)
			watch_next_cpu(cpu);
		if (cpu->id == 0) {
			vm_console_input_poll();
			/* An uplink without interrupts (82540EM): its tick is its interrupt. */
			uplink_tick();
			/* A frame for the hypervisor, or its timers: within a tick. */
			if (netstack_pending())
				cpu->need_resched = true;
		}
	}
	if (cpu->current)
		vcpu_timers_check(cpu->current, vm_guest_tsc_at(cpu->current->vm, now));
	if (cpu->id == 0)
		vm_timers_check(now);
	sched_timer_arm(cpu, cpu->current);
}
