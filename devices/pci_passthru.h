/*
 * A PCI function of the machine as a VM sees it (pci= in its configuration;
 * docs/passthrough.md): the configuration space the guest reads and writes
 * is a virtual one built from the real function's, and nothing the guest
 * writes reaches the real function's configuration except the command
 * register's memory and bus-master bits. Here only the guest's view; the
 * owner (core/vm_passthru.c) reaches the real function, maps the BARs and
 * sends the interrupts, through struct pt_host_ops.
 *
 * The guest's view (PCI Local Bus 3.0, 6.1-6.2, figure 6-1):
 *  - vendor, device, revision, class code, subsystem IDs: the real ones;
 *    header type 0, single function; no expansion ROM; interrupt pin 0
 *    (no INTx#: MSI or MSI-X only), interrupt line a scratch byte.
 *  - command: memory space, bus master and INTx disable writable; memory
 *    space and bus master are forwarded to the real function (INTx# stays
 *    disabled there). No I/O space: I/O BARs are not offered.
 *  - status: only "capabilities list" (6.2.3).
 *  - the memory BARs, with the real sizes and type bits (6.2.5.1): the guest
 *    sizes them and places them where it likes; the owner is told each time
 *    one moves (bar_moved) and maps it there. The real BARs never move.
 *  - the capability list (6.7) holds only MSI (6.8.1) and MSI-X (6.8.2), at
 *    the real offsets, each linked to the next one kept; every other
 *    capability (power management, PCI Express, vendor-specific, ...) is
 *    skipped, and the bytes outside the kept ones read 0 and ignore writes.
 *    Registers 256-4095 (PCIe extended capabilities) are not reachable: the
 *    VM's host bridge has no extended configuration access.
 *  - MSI: one message (Multiple Message Capable 0), 32- or 64-bit address
 *    as the real one, no per-vector masking; address and data are the
 *    guest's, kept here and never written to the device.
 *  - MSI-X: at most PT_MAX_VECTORS table entries (Table Size shows that
 *    many); table and PBA are emulated here (the owner traps their pages,
 *    pci_passthru_trap_range), entries start masked (6.8.2.9), Function Mask
 *    and the per-entry Mask bit hold a message back as pending in the PBA
 *    until unmasked (6.8.2.9-6.8.2.10).
 *
 * The real function's MSI(-X) always targets the host's vectors (the owner
 * routes them with pci_irq_route); pci_passthru_irq() turns one of them
 * into the message the guest programmed, or a pending bit.
 */
#ifndef DEVICES_PCI_PASSTHRU_H
#define DEVICES_PCI_PASSTHRU_H

#include "devices/pci_host.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define PT_MAX_VECTORS 8

/* Capability IDs (PCI 3.0, appendix H) and registers (6.8.1, 6.8.2). */
#define PT_CAP_ID_PM 0x01
#define PT_CAP_ID_MSI 0x05
#define PT_CAP_ID_EXP 0x10
#define PT_CAP_ID_MSIX 0x11
#define PT_CAP_ID_VNDR 0x09 /* vendor-specific: virtio 1.x describes its registers so */
#define PT_MSI_CTRL_ENABLE 0x0001
#define PT_MSI_CTRL_64BIT 0x0080
#define PT_MSI_CTRL_PVM 0x0100
#define PT_MSIX_CTRL_ENABLE 0x8000
#define PT_MSIX_CTRL_MASKALL 0x4000
#define PT_MSIX_ENTRY_MASKED 1
#define PT_STATUS_CAP_LIST 0x0010
#define PT_COMMAND_INTX_DISABLE 0x0400

/* The real function, as the virtual one needs it. */
struct pt_host_ops {
	/* Its configuration space: reg + size within one dword. */
	u32 (*cfg_read)(void *ctx, u8 reg, u8 size);
	void (*cfg_write)(void *ctx, u8 reg, u8 size, u32 val);
	/* Memory BAR n now decodes at guest-physical new_gpa (0: nowhere), not
	 * at old_gpa (0: nowhere). Called with the device's lock held. */
	void (*bar_moved)(void *ctx, unsigned bar, u64 old_gpa, u64 new_gpa);
	/* A guest access to a trapped part of BAR n that is neither MSI-X
	 * table nor PBA goes to the real BAR at that offset. */
	u64 (*bar_read)(void *ctx, unsigned bar, u64 off, u8 size);
	void (*bar_write)(void *ctx, unsigned bar, u64 off, u8 size, u64 val);
	/* Sends the guest's MSI (address, data) to its VM. Called without the
	 * device's lock, from any context pci_passthru_irq is. */
	void (*send)(void *ctx, u64 addr, u32 data);
};

/* A real memory BAR, as drivers/pci.c sized it. */
struct pt_bar {
	u64 size;   /* 0: not offered (unimplemented, or an I/O BAR) */
	u32 flags;  /* PCI_BAR_MEM64, PCI_BAR_PREFETCH */
	u64 mapped; /* where the guest's BAR decodes now; 0: nowhere */
	u64 place;  /* where reset puts it (the "firmware's" choice); 0: unplaced */
};

struct pci_passthru {
	const struct pt_host_ops *host;
	void *ctx;
	u8 devfn;            /* in the VM */
	spinlock_t lock;     /* guards everything below */
	struct pci_config cfg;
	struct pt_bar bar[PCI_NR_BARS];
	u8 msi_cap, msix_cap; /* offsets of the kept capabilities; 0: none */
	u16 nr_vectors;      /* MSI-X entries offered; 1 with MSI only; 0 neither */
	u16 real_vectors;    /* the real MSI-X table's size */
	u8 msix_bir;
	u32 msix_table, msix_pba; /* offsets in BAR msix_bir */
	struct {
		u32 addr_lo, addr_hi, data, ctrl;
	} msix[PT_MAX_VECTORS];
	u32 pending;         /* PBA bits (bit 0: the MSI message held back) */
};

/*
 * Builds the guest's view from the real configuration space (host->cfg_read)
 * and the real BARs (sizes and flags in bars[]; place: where reset puts
 * each). -ENODEV when the function is not a type 0 header. The guest's BARs
 * are then placed and decoding, as firmware leaves them.
 */
int pci_passthru_init(struct pci_passthru *pt, const struct pt_host_ops *host, void *ctx,
		      const struct pt_bar bars[PCI_NR_BARS]);
/* Power-on view again: the BARs at their places, MSI and MSI-X off, entries
 * masked, nothing pending. The real function is the owner's to reset. */
void pci_passthru_reset(struct pci_passthru *pt);
/* Unmaps what is mapped (bar_moved to 0). */
void pci_passthru_unmap(struct pci_passthru *pt);

/* For pci_host_add. */
extern const struct pci_dev_ops pci_passthru_cfg_ops;

/* The part of BAR bar the owner must trap rather than map (the 4 KiB pages
 * holding the MSI-X table and PBA; the whole BAR when smaller than a page):
 * false when none. */
bool pci_passthru_trap_range(const struct pci_passthru *pt, unsigned bar, u64 *off, u64 *len);
/* A guest access at offset off of BAR bar, inside its trapped range. */
u64 pci_passthru_trap_read(struct pci_passthru *pt, unsigned bar, u64 off, u8 size);
/* A write there; an entry it unmasks sends what was pending. */
void pci_passthru_trap_write(struct pci_passthru *pt, unsigned bar, u64 off, u8 size, u64 val);

/* The real function raised MSI-X entry (MSI: entry 0): sends the guest's
 * message (host->send), holds it pending while masked, drops it while the
 * guest has MSI and MSI-X off. */
void pci_passthru_irq(struct pci_passthru *pt, unsigned entry);

#endif
