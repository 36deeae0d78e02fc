/*
 * The AMD-Vi structures the IOMMU reads and writes in memory, built and read
 * bit by bit as 48882 lays them out: device table entries (2.2.2.1),
 * commands (2.4) and event log entries (2.5). Host-testable.
 */
#include "drivers/iommu_amd.h"
#include "lib/string.h"

void amd_dte_make(u64 dte[4], u16 domain_id, u64 root, unsigned perm)
{
	/* 2.2.2.1, Table 7: V and TV say the entry and its translation fields are
	 * valid; Mode 4 walks four levels from root; IR/IW (bits 61, 62) are
	 * ANDed with the tables'. Interrupt fields (third quadword) stay 0:
	 * IV = 0, interrupts pass unremapped (2.2.5). */
	memset(dte, 0, 4 * sizeof(u64));
	dte[0] = DTE_V | DTE_TV | (u64)AMD_PT_LEVELS << DTE_MODE_SHIFT |
		 (root & AMD_PTE_ADDR_MASK) | (perm & IOMMU_READ ? DTE_IR : 0) |
		 (perm & IOMMU_WRITE ? DTE_IW : 0);
	dte[1] = domain_id & DTE_DOMAIN_MASK;
}

/* 2.4: a command is four doublewords, its opcode in bits 31:28 of the second. */
static void cmd_clear(u32 cmd[4], u32 opcode)
{
	memset(cmd, 0, 4 * sizeof(u32));
	cmd[1] = opcode << 28;
}

void amd_cmd_completion_wait(u32 cmd[4], u64 store_pa, u64 data)
{
	/* 2.4.1 COMPLETION_WAIT: S (bit 0) stores data at the 8-byte aligned
	 * Store Address (bits 51:3, split over doublewords 0 and 1) once every
	 * earlier command has completed. */
	cmd_clear(cmd, CMD_COMPLETION_WAIT);
	cmd[0] = (u32)(store_pa & 0xfffffff8u) | 1u;
	cmd[1] |= (u32)(store_pa >> 32) & 0xfffff;
	cmd[2] = (u32)data;
	cmd[3] = (u32)(data >> 32);
}

void amd_cmd_inval_dte(u32 cmd[4], u16 bdf)
{
	/* 2.4.2 INVALIDATE_DEVTAB_ENTRY: DeviceID in bits 15:0. */
	cmd_clear(cmd, CMD_INVALIDATE_DEVTAB_ENTRY);
	cmd[0] = bdf;
}

void amd_cmd_inval_domain(u32 cmd[4], u16 domain_id)
{
	/* 2.4.3 INVALIDATE_IOMMU_PAGES: DomainID in doubleword 1 bits 15:0; S = 1
	 * with address 7FFF_FFFF_FFFF_F000h is every page; PDE (bit 1) takes the
	 * cached directory entries too. */
	cmd_clear(cmd, CMD_INVALIDATE_IOMMU_PAGES);
	cmd[1] |= domain_id;
	cmd[2] = 0xfffff000u | BIT(1) | BIT(0);
	cmd[3] = 0x7fffffffu;
}

int amd_event_decode(const u32 ev[4], struct iommu_fault *f)
{
	/* 2.5, every event: EventCode in doubleword 1 bits 31:28. 2.5.3
	 * IO_PAGE_FAULT: DeviceID dw0 15:0; dw1 flags: PR (bit 20: the page
	 * was present), RW (21: a write), PE (22: permission), RZ (23: reserved
	 * bit), TR (24: a translation request); address in dw2-3. */
	u32 code = ev[1] >> 28;

	*f = (struct iommu_fault){
		.bdf = (u16)ev[0],
		.addr = (u64)ev[3] << 32 | ev[2],
		.write = ev[1] & BIT(21),
	};
	switch (code) {
	case EVT_IO_PAGE_FAULT:
		f->what = ev[1] & BIT(23) ? "reserved bit" :
			  ev[1] & BIT(22) ? "no permission" :
			  ev[1] & BIT(20) ? "no permission" : "not present";
		return 1;
	case EVT_ILLEGAL_DEV_TABLE_ENTRY:
		f->what = "bad device table entry";
		return 1;
	case EVT_DEV_TAB_HW_ERROR:
		f->what = "device table unreadable";
		return 1;
	case EVT_PAGE_TAB_HW_ERROR:
		f->what = "page table unreadable";
		return 1;
	case EVT_ILLEGAL_COMMAND_ERROR:
		f->what = "illegal command";
		return 0;
	case EVT_COMMAND_HW_ERROR:
		f->what = "command buffer unreadable";
		return 0;
	default:
		f->what = "unknown event";
		return 0;
	}
}
