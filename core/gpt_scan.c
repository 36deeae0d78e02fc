/*
 * At boot, every disk's GPT (core/gpt.c) read through its driver, and each
 * usable partition registered as blockdev "gpt:<name>" (the names VMs'
 * disk=gpt:<name> refer to). A disk whose both tables are damaged gets no
 * partitions, so no VM can use it.
 */
#include "core/gpt_scan.h"
#include "core/blk_sync.h"
#include "core/gpt.h"
#include "hv/console.h"
#include "lib/format.h"

#define GPT_SCAN_MAX_PARTS 64

static int read_lbas(void *ctx, u64 lba, u32 count, void *buf)
{
	return blk_sync_io(ctx, BLK_READ, lba, buf, count);
}

static void report(void *ctx, const char *msg)
{
	kprintf("%s\n", msg);
}

void gpt_scan_disk(struct blockdev *bd)
{
	static struct gpt_part parts[GPT_SCAN_MAX_PARTS]; /* boot CPU only */
	struct gpt_disk d = { .name = bd->name, .nr_lbas = bd->nr_sectors, .read = read_lbas,
			      .ctx = bd, .report = report };
	enum gpt_source src;
	unsigned nr, used = 0;
	int ret = gpt_read(&d, parts, GPT_SCAN_MAX_PARTS, &nr, &src);

	if (ret == -ENOENT) {
		kprintf("gpt: %s: no GPT (no protective MBR): no partitions\n", bd->name);
		return;
	}
	if (ret) {
		kprintf("gpt: %s: no usable partition table (%d): the disk is not used\n", bd->name,
			ret);
		return;
	}
	for (unsigned i = 0; i < nr; i++) {
		char name[sizeof(bd->name)];
		u64 count = parts[i].last_lba - parts[i].first_lba + 1;

		if (fmt_snprintf(name, sizeof(name), "gpt:%s", parts[i].name) >= (int)sizeof(name)) {
			kprintf("gpt: %s: partition %u '%s': name too long for a blockdev; skipped\n",
				bd->name, parts[i].index + 1, parts[i].name);
			continue;
		}
		if (!blockdev_add_partition(bd, name, parts[i].first_lba, count)) {
			kprintf("gpt: %s: partition %u: %s exists already (another disk?); skipped\n",
				bd->name, parts[i].index + 1, name);
			continue;
		}
		kprintf("gpt: %s: partition %u %s: sectors %lu-%lu, %lu MiB\n", bd->name,
			parts[i].index + 1, name, parts[i].first_lba, parts[i].last_lba, count >> 11);
		used++;
	}
	kprintf("gpt: %s: %u partition%s from the %s table\n", bd->name, used, used == 1 ? "" : "s",
		src == GPT_PRIMARY ? "primary" : "backup");
}
