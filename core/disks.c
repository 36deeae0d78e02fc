/* The machine's disks at boot (core/disks.h). */
#include "core/disks.h"
#include "drivers/iommu.h"
#include "core/disktest.h"
#include "core/gpt_scan.h"
#include "drivers/disks.h"
#include "drivers/pci.h"
#include "hv/blockdev.h"
#include "hv/bootinfo.h"
#include "hv/console.h"
#include "lib/string.h"

#define DISKTEST_WORD "disktest="

#define MAX_DISKTESTS 4

static char disktest_target[MAX_DISKTESTS][40]; /* one per disktest= word */
static unsigned nr_disktests;
static char rest[BOOT_CMDLINE_MAX];

/*
 * Takes top-level disktest= words out (up to four: the last one given
 * replaces the fourth) (a VM's quoted cmdline="..." is left
 * alone), so the configuration parser (core/config.c) never sees them.
 */
const char *disks_take_options(const char *cmdline)
{
	size_t out = 0;
	bool quoted = false;

	for (const char *p = cmdline; *p && out < sizeof(rest) - 1;) {
		bool word_start = !quoted && (p == cmdline || p[-1] == ' ');

		if (word_start && !strncmp(p, DISKTEST_WORD, strlen(DISKTEST_WORD))) {
			char *t = disktest_target[nr_disktests < MAX_DISKTESTS ? nr_disktests++ :
							       MAX_DISKTESTS - 1];
			size_t n = 0;

			for (p += strlen(DISKTEST_WORD); *p && *p != ' '; p++)
				if (n < sizeof(disktest_target[0]) - 1)
					t[n++] = *p;
			t[n] = 0;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		if (*p == '#' && !quoted) { /* the rest is a comment (docs/config.md) */
			while (*p && out < sizeof(rest) - 1)
				rest[out++] = *p++;
			break;
		}
		rest[out++] = *p++;
	}
	rest[out] = 0;
	return rest;
}

/* The disks the drivers registered (not partitions, not RAM disks). */
static void scan_if_disk(struct blockdev *bd, void *ctx)
{
	if (!bd->parent && !strchr(bd->name, ':'))
		gpt_scan_disk(bd);
}

void disks_init(void)
{
	pci_scan(); /* once: core/hv.c has done it already */
	nvme_pci_probe();
	virtio_blk_pci_probe();
	blockdev_foreach(scan_if_disk, NULL);
	for (unsigned i = 0; i < nr_disktests; i++)
		disktest_run(disktest_target[i]);
}
