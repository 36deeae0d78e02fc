/* One AMD-Vi unit's registers and rings (drivers/iommu_amd_hw.c). */
#ifndef DRIVERS_IOMMU_AMD_HW_H
#define DRIVERS_IOMMU_AMD_HW_H

#include "drivers/iommu_amd.h"

struct amd_unit {
	volatile u8 *regs;
	u64 efr;          /* Extended Feature Register (3.4.5) */
	u32 ctrl;         /* what we wrote to the control register */
	u32 *cmd;         /* command buffer, one page */
	u32 cmd_tail;     /* bytes */
	u32 *evt;         /* event log, one page */
	u32 evt_head;     /* bytes: the next entry we take */
	bool tail_moves;  /* it has logged an event: its tail register moved */
	volatile u64 *sem; /* COMPLETION_WAIT stores here */
	u64 sem_token;
	u64 overflows;
};

/* Maps the registers, makes the rings, points the unit at devtab (its
 * pages), command buffer and event log on; translation still off. */
int amd_unit_start(struct amd_unit *u, u64 mmio_base, u64 devtab, u64 devtab_pages);
/* Translation on (IommuEn). */
void amd_unit_enable(struct amd_unit *u);
/* Queues a command; amd_unit_sync hands the queue over and waits for it. */
void amd_unit_push(struct amd_unit *u, const u32 cmd[4]);
int amd_unit_sync(struct amd_unit *u);
/* The next event log entry: 1 with ev, 0 when the log is empty. */
int amd_unit_event(struct amd_unit *u, u32 ev[4]);
/* Its registers and the log's first entries, for the monitor. */
void amd_unit_dump(struct amd_unit *u);

#endif
