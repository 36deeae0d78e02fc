/*
 * One AMD-Vi unit's registers (48882, 3.4 "IOMMU MMIO Registers"): the
 * device table, command buffer and event log bases, the control register,
 * and the ring pointers. Commands are written to the ring and waited for
 * with COMPLETION_WAIT; events are read by polling (no interrupt).
 */
#include "drivers/iommu_amd_hw.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "asm/idmap.h"
#include "lib/string.h"

/* 3.4.1-3.4.3: base registers, bits 51:12 the base, a size field. */
#define MMIO_DEVTAB_BASE 0x0000 /* Size, bits 8:0: 4 KiB pages minus one */
#define MMIO_CMDBUF_BASE 0x0008 /* ComLen, bits 59:56: log2 of entries */
#define MMIO_EVTLOG_BASE 0x0010 /* EventLen, bits 59:56 */
#define MMIO_CONTROL 0x0018     /* 3.4.4 */
#define CTRL_IOMMU_EN BIT(0)
#define CTRL_EVENT_LOG_EN BIT(2)
#define CTRL_CMD_BUF_EN BIT(12)
#define MMIO_EXT_FEATURES 0x0030 /* 3.4.5 */
/* 3.4.10-3.4.14: pointers are byte offsets in the ring, bits 18:4. */
#define MMIO_CMD_HEAD 0x2000
#define MMIO_CMD_TAIL 0x2008
#define MMIO_EVT_HEAD 0x2010
#define MMIO_EVT_TAIL 0x2018
#define MMIO_STATUS 0x2020
#define STATUS_EVENT_OVERFLOW BIT(0)
#define MMIO_SIZE 0x4000

#define RING_LOG2 8 /* 256 entries of 16 bytes: one page each (the smallest allowed) */
#define RING_BYTES (16u << RING_LOG2)
#define WAIT_US 100000

static u32 rd(struct amd_unit *u, u32 off) { return mmio_read32(u->regs + off); }
static void wr(struct amd_unit *u, u32 off, u32 v) { mmio_write32(u->regs + off, v); }
static void wr64(struct amd_unit *u, u32 off, u64 v)
{
	/* Low half first: some implementations (QEMU's) act on the high half. */
	wr(u, off, (u32)v);
	wr(u, off + 4, (u32)(v >> 32));
}

int amd_unit_start(struct amd_unit *u, u64 mmio_base, u64 devtab, u64 devtab_pages)
{
	memset(u, 0, sizeof(*u));
	if (idmap_set_uncached(mmio_base, MMIO_SIZE)) {
		kprintf("iommu: AMD-Vi registers at 0x%lx are outside the identity map\n", mmio_base);
		return -ENODEV;
	}
	u->regs = (volatile u8 *)(uintptr_t)mmio_base;
	u->cmd = (u32 *)(uintptr_t)page_alloc(RING_BYTES / PAGE_SIZE, PAGE_SIZE);
	u->evt = (u32 *)(uintptr_t)page_alloc(RING_BYTES / PAGE_SIZE, PAGE_SIZE);
	u->sem = (volatile u64 *)(uintptr_t)page_alloc(1, PAGE_SIZE);
	if (!u->cmd || !u->evt || !u->sem)
		return -ENOMEM;
	u->efr = (u64)rd(u, MMIO_EXT_FEATURES + 4) << 32 | rd(u, MMIO_EXT_FEATURES);

	/* 3.4.4: the bases are written while the unit is off. A firmware may
	 * have left it on (kexec, a warm boot). */
	wr(u, MMIO_CONTROL, 0);
	wr64(u, MMIO_DEVTAB_BASE, devtab | (devtab_pages - 1));
	wr64(u, MMIO_CMDBUF_BASE, (u64)(uintptr_t)u->cmd | (u64)RING_LOG2 << 56);
	wr64(u, MMIO_EVTLOG_BASE, (u64)(uintptr_t)u->evt | (u64)RING_LOG2 << 56);
	wr64(u, MMIO_CMD_HEAD, 0);
	wr64(u, MMIO_CMD_TAIL, 0);
	wr64(u, MMIO_EVT_HEAD, 0);
	wr64(u, MMIO_EVT_TAIL, 0);
	wr(u, MMIO_STATUS, STATUS_EVENT_OVERFLOW); /* write 1 to clear */
	u->ctrl = CTRL_EVENT_LOG_EN | CTRL_CMD_BUF_EN;
	wr(u, MMIO_CONTROL, u->ctrl);
	return 0;
}

void amd_unit_enable(struct amd_unit *u)
{
	u->ctrl |= CTRL_IOMMU_EN;
	wr(u, MMIO_CONTROL, u->ctrl);
}

void amd_unit_push(struct amd_unit *u, const u32 cmd[4])
{
	u32 next = (u->cmd_tail + 16) % RING_BYTES;

	/* Full when the tail would meet the head (2.4): wait for the unit. */
	for (u64 t = 0; next == (rd(u, MMIO_CMD_HEAD) & (RING_BYTES - 1)); t++) {
		if (t == WAIT_US) {
			kprintf("iommu: AMD-Vi command buffer stuck (head 0x%x)\n",
				rd(u, MMIO_CMD_HEAD));
			return;
		}
		hw_delay_us(1);
	}
	memcpy((u8 *)u->cmd + u->cmd_tail, cmd, 16);
	u->cmd_tail = next;
}

int amd_unit_sync(struct amd_unit *u)
{
	u32 cmd[4];
	u64 token = ++u->sem_token;

	amd_cmd_completion_wait(cmd, (u64)(uintptr_t)u->sem, token);
	amd_unit_push(u, cmd);
	hw_mb(); /* the entries before the tail that hands them over */
	wr(u, MMIO_CMD_TAIL, u->cmd_tail);
	for (u64 t = 0; __atomic_load_n(u->sem, __ATOMIC_ACQUIRE) != token; t++) {
		if (t == WAIT_US) {
			kprintf("iommu: AMD-Vi COMPLETION_WAIT not done after %u ms\n",
				WAIT_US / 1000);
			return -ETIMEDOUT;
		}
		hw_delay_us(1);
	}
	return 0;
}

int amd_unit_event(struct amd_unit *u, u32 ev[4])
{
	u32 head = u->evt_head, tail;

	if (rd(u, MMIO_STATUS) & STATUS_EVENT_OVERFLOW) {
		/* 2.5: the log stopped; start it again, empty, and say so once. */
		u->overflows++;
		wr(u, MMIO_CONTROL, u->ctrl & ~CTRL_EVENT_LOG_EN);
		wr(u, MMIO_STATUS, STATUS_EVENT_OVERFLOW);
		wr64(u, MMIO_EVT_HEAD, 0);
		wr64(u, MMIO_EVT_TAIL, 0);
		memset(u->evt, 0, RING_BYTES);
		u->evt_head = 0;
		wr(u, MMIO_CONTROL, u->ctrl);
		return 0;
	}
	tail = rd(u, MMIO_EVT_TAIL) & (RING_BYTES - 1);
	if (tail == head)
		return 0;
	u->tail_moves = true;
	hw_mb(); /* the entry after the tail that says it is there */
	memcpy(ev, (const u8 *)u->evt + head, 16);
	memset((u8 *)u->evt + head, 0, 16);
	u->evt_head = (head + 16) % RING_BYTES;
	wr(u, MMIO_EVT_HEAD, u->evt_head);
	return 1;
}

void amd_unit_dump(struct amd_unit *u)
{
	kprintf("iommu: AMD-Vi control 0x%x status 0x%x, commands head 0x%x tail 0x%x, events "
		"head 0x%x tail 0x%x (taken up to 0x%x), %lu overflows\n", rd(u, MMIO_CONTROL),
		rd(u, MMIO_STATUS), rd(u, MMIO_CMD_HEAD), rd(u, MMIO_CMD_TAIL), rd(u, MMIO_EVT_HEAD),
		rd(u, MMIO_EVT_TAIL), u->evt_head, u->overflows);
	kprintf("iommu: event log 0x%lx: %08x %08x %08x %08x | %08x %08x %08x %08x\n",
		(u64)(uintptr_t)u->evt, u->evt[0], u->evt[1], u->evt[2], u->evt[3], u->evt[4],
		u->evt[5], u->evt[6], u->evt[7]);
}
