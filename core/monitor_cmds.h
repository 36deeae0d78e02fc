/* The monitor's command arguments, and the commands kept outside core/monitor.c. */
#ifndef CORE_MONITOR_CMDS_H
#define CORE_MONITOR_CMDS_H

#include "hv/types.h"

#define MONITOR_MAX_ARGS 4

struct monitor_args {
	unsigned argc;
	const char *argv[MONITOR_MAX_ARGS]; /* argv[0] is the command */
	const char *rest; /* everything after the command word, spaces trimmed */
};

/* A decimal snapshot number from 1, or 0 for anything else. */
unsigned monitor_parse_id(const char *s);

/* core/monitor_cmds.c: snapshots kept, forgetting one, damaging one (a test
 * aid), the hypervisor's memory. Each prints its lines; 0 or -errno. */
int monitor_cmd_snapshots(const struct monitor_args *a);
int monitor_cmd_drop(const struct monitor_args *a);
int monitor_cmd_damage(const struct monitor_args *a);
int monitor_cmd_mem(const struct monitor_args *a);
/* core/monitor_disks.c: every blockdev, its size, read-only, the VM using it. */
int monitor_cmd_disks(const struct monitor_args *a);
/* core/monitor_cmds.c: the switch and its ports (core/vm_net.c). */
int monitor_cmd_net(const struct monitor_args *a);
/* core/monitor_migrate.c: live migration (docs/migration.md). */
int monitor_cmd_migrate(const struct monitor_args *a);
int monitor_cmd_migrate_test(const struct monitor_args *a);
int monitor_cmd_migrate_test_recv(const struct monitor_args *a);
int monitor_cmd_migration(const struct monitor_args *a);
/* core/monitor_pools.c: CPU-feature pools (docs/migration.md). */
int monitor_cmd_pools(const struct monitor_args *a);
int monitor_cmd_pool(const struct monitor_args *a);
/* core/monitor_iommu.c: the IOMMU's state; a stray DMA of a disk (a test aid). */
int monitor_cmd_iommu(const struct monitor_args *a);
int monitor_cmd_dma_test(const struct monitor_args *a);

#endif
