/* The test harness's verdicts (include/hv/vm_verdict.h). */
#include "hv/vm_verdict.h"
#include "hv/console.h"
#include "hv/spinlock.h"
#include "hv/vm.h"
#include "lib/format.h"

static bool enabled;
static spinlock_t lock = SPINLOCK_INIT;
static unsigned as_expected_count, judged; /* VMs that ended (and still exist) */
static bool as_expected_by_slot[CONFIG_MAX_VMS];

void vm_verdict_enable(bool on)
{
	enabled = on;
}

static bool as_expected(const struct vm *vm, char *why, size_t n)
{
	const struct vm_config *c = &vm->cfg;

	if (c->expect_set && c->expect_stop) {
		fmt_snprintf(why, n, "expected to be stopped");
		return vm->state == VM_STOPPED;
	}
	int want = c->expect_set ? c->expect_code : 0;

	fmt_snprintf(why, n, "expected exit code %d", want);
	return vm->state == VM_ENDED && vm->exit_code == want;
}

void vm_verdict(const struct vm *vm)
{
	char why[48];
	bool ok;

	if (!enabled)
		return;
	ok = as_expected(vm, why, sizeof(why));
	if (ok)
		kprintf("utsuwa: vm %s: as expected\n", vm->name);
	else
		kprintf("utsuwa: vm %s: NOT as expected (%s)\n", vm->name, why);
	spin_lock(&lock);
	as_expected_by_slot[vm->id] = ok;
	as_expected_count += ok;
	judged++;
	spin_unlock(&lock);
}

void vm_verdict_forget(const struct vm *vm)
{
	if (!enabled || !vm->counted_ended)
		return;
	spin_lock(&lock);
	as_expected_count -= as_expected_by_slot[vm->id];
	as_expected_by_slot[vm->id] = false;
	judged--;
	spin_unlock(&lock);
}

bool vm_verdict_summary(void)
{
	unsigned ok, bad;

	spin_lock(&lock);
	ok = as_expected_count;
	bad = judged - as_expected_count;
	spin_unlock(&lock);
	kprintf("utsuwa: all VMs ended: %u as expected, %u not\n", ok, bad);
	return bad == 0;
}
