/* The monitor's disks command (core/monitor_cmds.h): every blockdev. */
#include "core/monitor_cmds.h"
#include "hv/blockdev.h"
#include "hv/console.h"

static void show(struct blockdev *bd, void *ctx)
{
	unsigned *count = ctx;
	u64 mib = bd->nr_sectors >> 11;

	/* Sizes below a MiB in KiB: RAM disks and test partitions can be tiny. */
	kprintf("  %-24s %8lu %s  %-3s %-10s %s%s\n", bd->name, mib ? mib : bd->nr_sectors / 2,
		mib ? "MiB" : "KiB", bd->read_only ? "ro" : "rw", bd->user ? bd->user : "-",
		bd->parent ? "partition of " : "", bd->parent ? bd->parent->name : "");
	(*count)++;
}

int monitor_cmd_disks(const struct monitor_args *a)
{
	unsigned count = 0;

	kprintf("  %-24s %12s  %-3s %-10s\n", "name", "size", "", "vm");
	blockdev_foreach(show, &count);
	if (!count)
		kprintf("no disks\n");
	return 0;
}
