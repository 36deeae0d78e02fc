/* Monitor commands about snapshots, memory and the network (core/monitor_cmds.h). */
#include "core/monitor_cmds.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/vm_lifecycle.h"
#include "hv/vm_net.h"

unsigned monitor_parse_id(const char *s)
{
	unsigned long n = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return 0;
		n = n * 10 + (unsigned)(*s - '0');
	}
	return (unsigned)n;
}

static void show_snapshot(void *ctx, unsigned id, const char *vm, u64 bytes)
{
	unsigned *count = ctx;

	kprintf("snapshot %u: vm %s, %lu KiB\n", id, vm, (unsigned long)(bytes >> 10));
	(*count)++;
}

int monitor_cmd_snapshots(const struct monitor_args *a)
{
	unsigned count = 0;

	vm_snapshot_list(show_snapshot, &count);
	if (!count)
		kprintf("no snapshots\n");
	return 0;
}

/* The snapshot number in argv[1], or 0 with a line saying why. */
static unsigned snapshot_arg(const struct monitor_args *a)
{
	unsigned id = monitor_parse_id(a->argv[1]);

	if (!id)
		kprintf("%s: '%s' is not a snapshot number (snapshots lists them)\n", a->argv[0],
			a->argv[1]);
	return id;
}

static int report(int ret, const char *err)
{
	if (ret)
		kprintf("%s\n", err);
	return ret;
}

int monitor_cmd_drop(const struct monitor_args *a)
{
	unsigned id = snapshot_arg(a);
	char err[128];

	if (!id)
		return -EINVAL;
	if (report(vm_snapshot_drop(id, err, sizeof(err)), err))
		return -EINVAL;
	kprintf("snapshot %u dropped\n", id);
	return 0;
}

int monitor_cmd_damage(const struct monitor_args *a)
{
	unsigned id = snapshot_arg(a);
	u64 off = 0;
	char err[128];

	if (!id)
		return -EINVAL;
	for (const char *s = a->argv[2]; *s; s++) {
		if (*s < '0' || *s > '9' || off > (1ULL << 40)) {
			kprintf("damage: '%s' is not a byte offset\n", a->argv[2]);
			return -EINVAL;
		}
		off = off * 10 + (u64)(*s - '0');
	}
	if (report(vm_snapshot_damage(id, off, err, sizeof(err)), err))
		return -EINVAL;
	kprintf("snapshot %u: byte %lu flipped\n", id, (unsigned long)off);
	return 0;
}

int monitor_cmd_mem(const struct monitor_args *a)
{
	kprintf("memory: %lu pages free, %lu heap blocks in use, %lu pages in small heap blocks\n",
		(unsigned long)mm_free_pages(), (unsigned long)kheap_live_blocks(),
		(unsigned long)kheap_pages_carved());
	return 0;
}

int monitor_cmd_net(const struct monitor_args *a)
{
	vm_net_report();
	return 0;
}
