/*
 * Pause, resume, destroy, create at run time, snapshot and restore
 * (include/hv/vm_lifecycle.h). Each action first quiesces the VM with one
 * primitive, vm_quiesce: the VM's state says why its vCPUs must leave
 * (paused, stopped), sched_vm_leave takes them off the queue and kicks the
 * running ones out of guest mode, and we wait until none is on a CPU. Then
 * nothing of the VM runs, no CPU holds its registers, VMCS or FPU state,
 * and its devices see no access: the action owns the VM.
 *
 * These run on CPU 0 from the monitor, never in interrupt context: they
 * wait for other CPUs. CPU 0's tick is the only one that walks vms[] in
 * interrupt context, so changing the slots here needs no more than vms_lock.
 */
#include "hv/vm_lifecycle.h"
#include "hv/migrate.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "devices/acpi_pm.h"
#include "asm/cpu.h"
#include "lib/format.h"
#include "lib/string.h"

#define QUIESCE_TIMEOUT_NS 5000000000ULL /* a vCPU is kicked out within a tick */

int vm_err(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		fmt_vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

struct vm *vm_find(const char *name)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		if (vms[i] && !strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

static const char *state_name(enum vm_state s)
{
	switch (s) {
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_ENDED:
		return "ended";
	case VM_STOPPED:
		return "stopped";
	case VM_RESETTING:
		return "resetting";
	}
	return "?";
}

const char *vm_state_name(const struct vm *vm)
{
	return state_name(vm->state);
}

/* Waits until no vCPU of the VM is on a CPU or queued; vm->state must
 * already say why (sched_vm_leave has been called). -ETIMEDOUT if a vCPU
 * did not leave: a broken invariant, reported, the VM left alone. */
static int vm_wait_quiet(struct vm *vm)
{
	u64 until = rdtsc() + ns_to_tsc(QUIESCE_TIMEOUT_NS);

	while (!sched_vm_quiet(vm)) {
		if (rdtsc() > until) {
			kprintf("utsuwa: vm %s: a vCPU did not leave its CPU in %lu s\n", vm->name,
				(u64)(QUIESCE_TIMEOUT_NS / 1000000000ULL));
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
	return 0;
}

/* Moves the VM from one of the states in `from` (a bit per enum vm_state)
 * to `to`; false, with the state it is in, if it was in none of them. */
static bool transition(struct vm *vm, unsigned from, enum vm_state to, enum vm_state *was)
{
	bool ok;

	spin_lock(&vm->lock);
	*was = vm->state;
	ok = from & BIT(vm->state);
	if (ok)
		vm->state = to;
	spin_unlock(&vm->lock);
	return ok;
}

/* The quiesce primitive: the VM is in `to` and no vCPU of it runs. */
static int vm_quiesce(struct vm *vm, unsigned from, enum vm_state to, enum vm_state *was)
{
	if (!transition(vm, from, to, was))
		return -EINVAL;
	sched_vm_leave(vm);
	return vm_wait_quiet(vm);
}

int vm_pause(struct vm *vm, char *err, size_t n)
{
	enum vm_state was;
	int ret;

	if (migrate_busy(vm))
		return vm_err(err, n, -EBUSY, "pause: vm %s is being migrated (cancel it first)",
			      vm->name);
	ret = vm_quiesce(vm, BIT(VM_RUNNING), VM_PAUSED, &was);
	if (ret == -EINVAL)
		return vm_err(err, n, ret, "pause: vm %s is %s, not running", vm->name, state_name(was));
	if (ret)
		return vm_err(err, n, ret, "pause: vm %s: a vCPU did not stop", vm->name);
	vm_clock_stop(vm); /* guest time stands still while paused (docs/lifecycle.md) */
	return 0;
}

/*
 * on_crash=pause (core/vm_report.c), on the crashing vCPU's CPU: the VM is
 * paused as `pause` leaves it, its vCPUs parked where they were. Its clock
 * runs on, unlike `pause`'s: the other vCPUs may still be running when this
 * CPU decides, and a clock stopped before they have left could go back for
 * them. resume runs it again (the crashed vCPU retries where it stopped);
 * reset or destroy from the monitor.
 */
void vm_crash_pause(struct vm *vm)
{
	enum vm_state was;

	if (transition(vm, BIT(VM_RUNNING), VM_PAUSED, &was))
		sched_vm_leave(vm);
}

int vm_resume(struct vm *vm, char *err, size_t n)
{
	enum vm_state was;

	if (migrate_busy(vm))
		return vm_err(err, n, -EBUSY, "resume: vm %s is being migrated (cancel it first)",
			      vm->name);
	/* Only the monitor's CPU pauses and resumes, so the VM stays paused
	 * between this check and the transition. The clock starts while it is
	 * still paused: a vCPU woken the moment it runs again (an interrupt
	 * through sched_wake) already loads the running clock's TSC offset. */
	if (vm->state != VM_PAUSED)
		return vm_err(err, n, -EINVAL, "resume: vm %s is %s, not paused", vm->name,
			      vm_state_name(vm));
	vm_clock_start(vm);
	if (!transition(vm, BIT(VM_PAUSED), VM_RUNNING, &was))
		return vm_err(err, n, -EINVAL, "resume: vm %s is %s, not paused", vm->name,
			      state_name(was));
	sched_vm_resume(vm);
	return 0;
}

int vm_power_button(struct vm *vm, char *err, size_t n)
{
	u64 f;

	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "stop: vm %s is %s, not running", vm->name,
			    vm_state_name(vm));
	/* The PM device's lock is also taken by CPU 0's tick: no tick meanwhile. */
	f = irq_save();
	acpi_pm_power_button(vm->acpi_pm);
	irq_restore(f);
	return 0;
}

int vm_reset_now(struct vm *vm, char *err, size_t n)
{
	if (migrate_busy(vm))
		return vm_err(err, n, -EBUSY, "reset: vm %s is being migrated (cancel it first)",
			      vm->name);
	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "reset: vm %s is %s, not running", vm->name,
			    vm_state_name(vm));
	vm_reset_request(vm);
	return 0;
}

int vm_destroy(struct vm *vm, char *err, size_t n)
{
	enum vm_state was;
	int ret;

	if (migrate_busy(vm))
		return vm_err(err, n, -EBUSY, "destroy: vm %s is being migrated (cancel it first)",
			      vm->name);
	/* A reset under way ends with the VM running again: let it finish. */
	for (u64 until = rdtsc() + ns_to_tsc(QUIESCE_TIMEOUT_NS); vm->state == VM_RESETTING;)
		if (rdtsc() > until)
			return vm_err(err, n, -EBUSY, "destroy: vm %s is stuck in a reset", vm->name);
	ret = vm_quiesce(vm, BIT(VM_RUNNING) | BIT(VM_PAUSED), VM_STOPPED, &was);
	if (ret == -EINVAL) /* it had ended already: its vCPUs are stopped */
		ret = vm_wait_quiet(vm);
	if (ret)
		return vm_err(err, n, ret, "destroy: vm %s: a vCPU did not stop", vm->name);
	kprintf("utsuwa: vm %s: destroyed\n", vm->name);
	vm_forget(vm);
	vm_free(vm);
	return 0;
}

/* The first problem the parser reports becomes the error line. */
struct report_ctx {
	char *err;
	size_t n;
	bool said;
};

static void report_first(void *ctx, const char *msg)
{
	struct report_ctx *r = ctx;

	if (!r->said && r->err)
		strlcpy(r->err, msg, r->n);
	r->said = true;
}

/* CPUs a VM created now may run on: every CPU nobody owns, or its own pin
 * list if no running VM uses those CPUs. 0, with err set, if none. */
u64 vm_runtime_affinity(const struct vm_config *c, char *err, size_t n)
{
	u64 ready = hv_cpus_ready(), owned = 0, used = 0;

	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		const struct vm *o = vms[i];

		if (!o)
			continue;
		owned |= o->cfg.pin;
		for (unsigned j = 0; j < o->nr_vcpus; j++)
			used |= o->vcpus[j]->affinity;
	}
	if (c->pin && (c->pin & ~ready))
		return vm_err(err, n, 0, "create: vm '%s': pin: CPUs %lx are not all usable (%lx)",
			    c->name, c->pin, ready);
	if (c->pin && (c->pin & used))
		return vm_err(err, n, 0, "create: vm '%s': pin: CPUs %lx already run other VMs",
			    c->name, c->pin & used);
	if (c->pin)
		return c->pin;
	if (!(ready & ~owned))
		return vm_err(err, n, 0, "create: vm '%s': every CPU is pinned to other VMs", c->name);
	return ready & ~owned;
}

/* Creates the VM of one configuration word; starts it, or leaves it paused
 * before its first instruction. */
static int create_line(const char *line, bool start, char *err, size_t n)
{
	static struct hv_config cfg; /* 9 KiB: not on the stack; only CPU 0 runs this */
	struct report_ctx r = { err, n, false };
	struct vm *vm;
	u64 affinity;

	if (strncmp(line, "vm=", 3))
		return vm_err(err, n, -EINVAL, "create: expected one word vm=<name>,..., as in the "
			    "boot configuration (docs/config.md)");
	config_init(&cfg);
	config_parse(&cfg, line, strlen(line), report_first, &r);
	if (r.said)
		return -EINVAL;
	if (cfg.nr_vms != 1)
		return vm_err(err, n, -EINVAL, "create: expected one VM, got %u", cfg.nr_vms);
	if (vm_find(cfg.vms[0].name))
		return vm_err(err, n, -EEXIST, "create: a VM named '%s' exists already",
			    cfg.vms[0].name);
	affinity = vm_runtime_affinity(&cfg.vms[0], err, n);
	if (!affinity)
		return -EINVAL;
	vm = vm_create(&cfg.vms[0], hv_boot_info(), affinity);
	if (!vm)
		return vm_err(err, n, -EINVAL, "create: vm '%s' not created (the log says why)",
			    cfg.vms[0].name);
	kprintf("utsuwa: vm %s: created, %u vCPU%s, %lu MiB (+%lu KiB of the hypervisor's)\n",
		vm->name, vm->cfg.cpus, vm->cfg.cpus > 1 ? "s" : "", vm->cfg.mem >> 20,
		vm->overhead_bytes >> 10);
	if (!start) {
		/* Paused before it ever ran: vm_start parks its vCPUs (enqueue
		 * sees VM_PAUSED) and its clock stands at 0 until vm_resume. */
		enum vm_state was;

		transition(vm, BIT(VM_RUNNING), VM_PAUSED, &was);
		vm_clock_stop(vm);
	}
	vm_start(vm);
	return 0;
}

int vm_create_line(const char *line, char *err, size_t n)
{
	return create_line(line, true, err, n);
}

int vm_create_paused(const char *line, char *err, size_t n)
{
	return create_line(line, false, err, n);
}
