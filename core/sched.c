/* Run queue, blocking and waking (policy in include/hv/sched.h). */
#include "hv/sched.h"
#include "hv/console.h"
#include "hv/platform.h"
#include "hv/spinlock.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "devices/vlapic.h"
#include "asm/percpu.h"

u64 sched_slice_tsc;

static spinlock_t sched_lock = SPINLOCK_INIT; /* guards the queue and every vcpu->state */
static struct vcpu *rq_head, *rq_tail;
static volatile u64 idle_cpus; /* CPUs halted in the idle loop, to kick on a wake-up */

void sched_init(u32 slice_ms)
{
	sched_slice_tsc = ns_to_tsc((u64)slice_ms * 1000000);
}

static void kick_idle(u64 affinity)
{
	u64 mask = idle_cpus & affinity;

	for (u32 cpu = 0; mask; cpu++, mask >>= 1)
		if (mask & 1) {
			ipi_send(cpu, VECTOR_KICK);
			return; /* one CPU is enough for one vCPU */
		}
}

static void enqueue_locked(struct vcpu *v)
{
	/* A paused VM's vCPUs wait off the queue until vm_resume; one whose VM
	 * has ended or is being reset never goes back on. Checked under the
	 * lock, so a vCPU requeued while its VM is being paused cannot slip
	 * past sched_vm_leave. */
	if (v->vm->state == VM_PAUSED) {
		v->state = VCPU_PARKED;
		return;
	}
	if (v->vm->state != VM_RUNNING && v->vm->state != VM_RESETTING) {
		v->state = VCPU_STOPPED;
		return;
	}
	v->state = VCPU_RUNNABLE;
	v->rq_next = NULL;
	if (rq_tail)
		rq_tail->rq_next = v;
	else
		rq_head = v;
	rq_tail = v;
}

void sched_enqueue(struct vcpu *v)
{
	u64 f = irq_save();

	spin_lock(&sched_lock);
	enqueue_locked(v);
	spin_unlock(&sched_lock);
	irq_restore(f);
	kick_idle(v->affinity);
}

struct vcpu *sched_pick(struct percpu *cpu)
{
	struct vcpu *v, *prev = NULL;
	u64 bit = BIT(cpu->id);

	spin_lock(&sched_lock);
	for (v = rq_head; v; prev = v, v = v->rq_next)
		if (v->affinity & bit)
			break;
	if (v) {
		if (prev)
			prev->rq_next = v->rq_next;
		else
			rq_head = v->rq_next;
		if (rq_tail == v)
			rq_tail = prev;
		v->rq_next = NULL;
		v->state = VCPU_RUNNING;
		v->cpu = (int)cpu->id;
		__atomic_and_fetch(&idle_cpus, ~bit, __ATOMIC_RELAXED);
	} else {
		__atomic_or_fetch(&idle_cpus, bit, __ATOMIC_RELAXED);
	}
	spin_unlock(&sched_lock);
	return v;
}

bool sched_others_waiting(struct percpu *cpu)
{
	u64 bit = BIT(cpu->id);

	/* Unlocked peek: a stale answer only delays a switch by one tick. */
	for (struct vcpu *v = __atomic_load_n(&rq_head, __ATOMIC_ACQUIRE); v; v = v->rq_next)
		if (v->affinity & bit)
			return true;
	return false;
}

/*
 * v has just stopped (sched_lock held). Is it the last vCPU of a VM being
 * reset to do so? Then the reset is this CPU's job, and only this one's:
 * once every vCPU is stopped, none runs the VM's code or touches its
 * devices while it is rebuilt.
 */
static bool stop_locked(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (vm->state == VM_PAUSED) {
		v->state = VCPU_PARKED; /* vm_resume puts it back on the queue */
		return false;
	}
	v->state = VCPU_STOPPED;
	if (vm->state != VM_RESETTING || vm->reset_claimed)
		return false;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->state != VCPU_STOPPED)
			return false;
	vm->reset_claimed = true;
	return true;
}

bool sched_stop(struct vcpu *v)
{
	bool last;

	spin_lock(&sched_lock);
	last = stop_locked(v);
	spin_unlock(&sched_lock);
	return last;
}

/* Would a halted vCPU run now: a start-up to act on, or an interrupt it can take? */
static bool has_work(struct vcpu *v)
{
	if (v->init_pending || (v->wait_sipi && v->sipi_vector >= 0))
		return true;
	if (v->halted_if0) /* HLT with interrupts off: an NMI wakes it */
		return v->lapic && vlapic_nmi_pending(v->lapic);
	return !v->wait_sipi && vcpu_irq_deliverable(v);
}

bool sched_block(struct vcpu *v)
{
	bool last = false;

	spin_lock(&sched_lock);
	/* An interrupt raised since the vCPU decided to halt keeps it running.
	 * A paused VM's vCPU halts as it would running (enqueue_locked parks it
	 * if it has something to do): resume finds it where it was. */
	if (v->vm->state != VM_RUNNING && v->vm->state != VM_PAUSED)
		last = stop_locked(v);
	else if (has_work(v))
		enqueue_locked(v);
	else
		v->state = VCPU_BLOCKED;
	spin_unlock(&sched_lock);
	return last;
}

void sched_wake(struct vcpu *v)
{
	u64 f = irq_save();
	bool queued = false, running = false;

	spin_lock(&sched_lock);
	if (v->state == VCPU_BLOCKED && v->vm->state != VM_PAUSED &&
	    (!v->halted_if0 || v->init_pending || (v->wait_sipi && v->sipi_vector >= 0) ||
	     (v->lapic && vlapic_nmi_pending(v->lapic)))) {
		enqueue_locked(v);
		queued = true;
	} else if (v->state == VCPU_RUNNING) {
		running = true;
	}
	spin_unlock(&sched_lock);
	irq_restore(f);
	if (queued)
		kick_idle(v->affinity);
	else if (running && v->cpu >= 0 && (u32)v->cpu != this_cpu()->id)
		ipi_send((u32)v->cpu, VECTOR_KICK);
}

bool sched_vm_leave(struct vm *vm)
{
	u64 f = irq_save();
	u64 kick = 0;
	bool paused = vm->state == VM_PAUSED, last = false;

	spin_lock(&sched_lock);
	for (struct vcpu **pp = &rq_head, *prev = NULL; *pp;) {
		struct vcpu *v = *pp;

		if (v->vm == vm) {
			*pp = v->rq_next;
			if (rq_tail == v)
				rq_tail = prev;
			v->state = paused ? VCPU_PARKED : VCPU_STOPPED;
		} else {
			prev = v;
			pp = &v->rq_next;
		}
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->state == VCPU_BLOCKED && !paused)
			v->state = VCPU_STOPPED;
		else if (v->state == VCPU_RUNNING && v->cpu >= 0 && (u32)v->cpu != this_cpu()->id)
			kick |= BIT(v->cpu);
	}
	/* A reset asked for while no vCPU was on a CPU (the monitor's, with
	 * every vCPU queued or halted): no vCPU will stop later to run it, so
	 * the caller does (stop_locked's rule, applied here). */
	if (vm->state == VM_RESETTING && !vm->reset_claimed) {
		last = true;
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i]->state != VCPU_STOPPED)
				last = false;
		vm->reset_claimed = last;
	}
	spin_unlock(&sched_lock);
	irq_restore(f);
	for (u32 cpu = 0; kick; cpu++, kick >>= 1)
		if (kick & 1)
			ipi_send(cpu, VECTOR_KICK);
	return last;
}

bool sched_vm_quiet(struct vm *vm)
{
	u64 f = irq_save();
	bool quiet = true;

	spin_lock(&sched_lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->state == VCPU_RUNNING || vm->vcpus[i]->state == VCPU_RUNNABLE)
			quiet = false;
	spin_unlock(&sched_lock);
	irq_restore(f);
	return quiet;
}

void sched_vm_resume(struct vm *vm)
{
	u64 f = irq_save();
	u64 affinity = 0;

	spin_lock(&sched_lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->state == VCPU_PARKED || (v->state == VCPU_BLOCKED && has_work(v))) {
			enqueue_locked(v);
			affinity |= v->affinity;
		}
	}
	spin_unlock(&sched_lock);
	irq_restore(f);
	/* Every idle CPU that may run one of them: several vCPUs come back at once. */
	for (u32 cpu = 0; affinity; cpu++, affinity >>= 1)
		if ((affinity & 1) && (__atomic_load_n(&idle_cpus, __ATOMIC_RELAXED) & BIT(cpu)))
			ipi_send(cpu, VECTOR_KICK);
}

#define RESCUE_REPORTS_MAX 8

void sched_rescue_lost_wakeups(void)
{
	static unsigned rescued;
	struct vcpu *found[4];
	unsigned nfound = 0, before;
	u64 kick = 0;

	spin_lock(&sched_lock);
	before = rescued;
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];

		if (!vm || vm->state != VM_RUNNING)
			continue;
		for (unsigned j = 0; j < vm->nr_vcpus; j++) {
			struct vcpu *v = vm->vcpus[j];

			if (v->state != VCPU_BLOCKED || !has_work(v))
				continue;
			enqueue_locked(v);
			kick |= v->affinity;
			rescued++;
			if (nfound < ARRAY_SIZE(found))
				found[nfound++] = v;
		}
	}
	spin_unlock(&sched_lock);
	if (kick)
		kick_idle(kick);
	/* Printed outside the lock; the VMs cannot go away meanwhile (only
	 * CPU 0, which runs this, destroys them). */
	for (unsigned k = 0; k < nfound && before + k < RESCUE_REPORTS_MAX; k++)
		kprintf("sched: vm %s vCPU %u was halted with an interrupt to take and not "
			"woken: queued now (%u so far)\n",
			found[k]->vm->name, found[k]->id, before + k + 1);
}
