/* The device list (core/device.c): creation order, reset, tick, quiesce, find, destroy. */
#include "unit.h"
#include "hv/device.h"
#include "hv/vm.h"
#include <string.h>

static char trace[256]; /* what the ops were called for, in order */

static void note(const char *what, const void *dev)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s%s:%s", n ? " " : "", what, (const char *)dev);
}

static bool fail_b;

static void *create_a(struct vm *vm) { note("create", "a"); return "a"; }
static void *create_b(struct vm *vm) { note("create", "b"); return fail_b ? NULL : "b"; }
static void *create_c(struct vm *vm) { note("create", "c"); return "c"; }
static void reset(void *dev) { note("reset", dev); }
static void destroy(void *dev) { note("destroy", dev); }
static void tick(void *dev, u64 now) { note(now == 42 ? "tick42" : "tick?", dev); }
static void quiesce(void *dev) { note("quiesce", dev); }

static const struct device_ops a_ops = { .name = "a", .create = create_a, .reset = reset,
					 .destroy = destroy, .tick = tick };
static const struct device_ops b_ops = { .name = "b", .create = create_b, .destroy = destroy,
					 .quiesce = quiesce };
static const struct device_ops c_ops = { .name = "c", .create = create_c, .reset = reset,
					 .destroy = destroy, .tick = tick };
static const struct device_ops *const table[] = { &a_ops, &b_ops, &c_ops };

TEST(create_reset_tick_find_destroy_in_order)
{
	static struct vm vm;

	memset(&vm, 0, sizeof(vm));
	trace[0] = 0;
	fail_b = false;
	CHECK_EQ(vm_devices_create(&vm, table, 3), 0);
	CHECK_EQ(vm.devices.nr, 3u);
	vm_devices_reset(&vm);   /* b has no reset: skipped */
	vm_devices_tick(&vm, 42); /* b has no tick: skipped */
	vm_devices_quiesce(&vm);  /* only b has one */
	CHECK(vm_device_find(&vm, "b") && vm_device_find(&vm, "b")->dev == (void *)"b");
	CHECK(vm_device_find(&vm, "nosuch") == NULL);
	vm_devices_destroy(&vm);
	CHECK_EQ(vm.devices.nr, 0u);
	CHECK(!strcmp(trace, "create:a create:b create:c reset:a reset:c tick42:a tick42:c "
			     "quiesce:b destroy:c destroy:b destroy:a"));
	if (strcmp(trace, "create:a create:b create:c reset:a reset:c tick42:a tick42:c "
			  "quiesce:b destroy:c destroy:b destroy:a"))
		fprintf(stderr, "  trace: %s\n", trace);
}

TEST(a_failed_create_leaves_the_others_for_destroy)
{
	static struct vm vm;

	memset(&vm, 0, sizeof(vm));
	trace[0] = 0;
	fail_b = true;
	CHECK_EQ(vm_devices_create(&vm, table, 3), -ENOMEM);
	CHECK_EQ(vm.devices.nr, 1u); /* a; c was never created */
	vm_devices_destroy(&vm);
	CHECK(!strcmp(trace, "create:a create:b destroy:a"));
}

TEST(a_full_list_is_refused)
{
	static struct vm vm;
	const struct device_ops *many[VM_MAX_DEVICES + 1];

	memset(&vm, 0, sizeof(vm));
	for (unsigned i = 0; i < VM_MAX_DEVICES + 1; i++)
		many[i] = &a_ops;
	trace[0] = 0;
	CHECK_EQ(vm_devices_create(&vm, many, VM_MAX_DEVICES + 1), -ENOSPC);
	CHECK_EQ(vm.devices.nr, (unsigned)VM_MAX_DEVICES);
	trace[0] = 0;
	vm_devices_destroy(&vm);
	CHECK_EQ(vm.devices.nr, 0u);
}

int main(void)
{
	RUN(create_reset_tick_find_destroy_in_order);
	RUN(a_failed_create_leaves_the_others_for_destroy);
	RUN(a_full_list_is_refused);
	return unit_done();
}
