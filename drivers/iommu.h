/*
 * The machine's IOMMU, as the rest of utsuwa sees it: one interface over
 * AMD-Vi (drivers/iommu_amd*.c, ACPI IVRS; AMD I/O Virtualization Technology
 * Specification 48882) and Intel VT-d (drivers/iommu_vtd*.c, ACPI DMAR; Intel
 * VT-d Architecture Specification). From iommu_init() on, every PCI
 * function's DMA is blocked unless it is attached to a domain, and a domain
 * reaches only what was mapped into it:
 *   - the host domain: the buffers utsuwa's own drivers hand to their
 *     devices (granted by iommu_grant_host()), identity-mapped;
 *   - a VM's domain: its guest-physical RAM, iova = guest-physical address,
 *     for the functions passed through to it (pci= in its configuration).
 * The hypervisor's own code, data and page tables are in no domain.
 * A device that DMAs elsewhere is refused by the IOMMU; the fault is reported
 * with the function, the address and the VM, and handled (core/iommu.c).
 */
#ifndef DRIVERS_IOMMU_H
#define DRIVERS_IOMMU_H

#include "hv/types.h"

#define IOMMU_READ 1u  /* the device may read (DMA from memory) */
#define IOMMU_WRITE 2u /* the device may write (DMA to memory) */

/* Bus, device, function as one requester ID (PCIe: bus << 8 | dev << 3 | fn). */
#define PCI_BDF(bus, dev, fn) ((u16)((bus) << 8 | (dev) << 3 | (fn)))

struct iommu_domain; /* the driver's own: its page tables and domain ID */

/* One DMA the IOMMU refused, as its event log or fault recording said. */
struct iommu_fault {
	u16 bdf;
	u64 addr;   /* the device's address (iova) */
	bool write;
	const char *what; /* "not present", "no permission", "no translation", ... */
	/* Set when the unit only signalled that it refused a DMA and logged no
	 * event (QEMU 7.2's amd-iommu): bdf is then the IOMMU's own function and
	 * addr and write mean nothing. Zero in every real report. */
	bool source_unknown;
};

/* What a driver offers; the common layer (core/iommu.c) calls nothing else. */
struct iommu_ops {
	const char *name; /* "AMD-Vi", "VT-d" */
	/* The ACPI table ("IVRS" or "DMAR", checksummed, mapped at table). Finds
	 * the units, sets every function's DMA to blocked, turns translation on.
	 * Returns 0, or a negative errno after a log line saying why. */
	int (*init)(const u8 *table, u32 len);
	struct iommu_domain *(*domain_new)(void);
	/* Only once no function is attached to it. */
	void (*domain_free)(struct iommu_domain *d);
	/* Maps [iova, iova + size) to [pa, pa + size), 4 KiB aligned, with
	 * IOMMU_READ | IOMMU_WRITE. -ENOMEM, -EINVAL for a bad range. */
	int (*map)(struct iommu_domain *d, u64 iova, u64 pa, u64 size, unsigned perm);
	/* Removes the mappings and flushes the IOTLBs: when it returns, no DMA
	 * through them can complete. */
	int (*unmap)(struct iommu_domain *d, u64 iova, u64 size);
	/* Puts function bdf in domain d (NULL: blocked again) and flushes what
	 * the IOMMU cached for it. */
	int (*attach)(struct iommu_domain *d, u16 bdf);
	/* The next fault logged since the last call: 1 with *f filled, 0 none. */
	int (*fault_next)(struct iommu_fault *f);
};

/* At boot, after pci_scan() and before any driver enables bus mastering:
 * finds IVRS or DMAR and brings that IOMMU up. 0 when there is none (DMA then
 * unrestricted, as the boot log says). */
int iommu_init(void);
/* The IOMMU in use, or NULL. */
const struct iommu_ops *iommu_active(void);
/* Lets every function utsuwa drives reach [pa, pa + size) (its DMA buffers);
 * a no-op without an IOMMU. */
int iommu_grant_host(u64 pa, u64 size, unsigned perm);
/* Takes [pa, pa + size) away from the host domain again (a freed buffer);
 * when it returns no DMA of a host device reaches it. */
int iommu_revoke_host(u64 pa, u64 size);
/* Puts one of utsuwa's own devices in the host domain (drivers/pci_msi.c's
 * pci_enable does, before bus mastering). */
int iommu_attach_host(u16 bdf);
/* One boot-log line: the IOMMU, and how many functions are blocked, in the
 * host domain, in VMs. */
void iommu_report(void);
/* Host-device DMA faults seen since boot (each was logged). */
u64 iommu_host_faults(void);

struct vm;
/* A VM's RAM, while it exists: utsuwa's disk drivers move a VM's disk data
 * straight between the device and its RAM (devices/virtio_blk.c hands the
 * guest's buffers to drivers/nvme.c, drivers/virtio_blk.c), so the host
 * domain must reach it. core/vm.c grants it when the RAM is made and revokes
 * it (and drops the VM's own domain) before the RAM is freed. */
int iommu_vm_ram_grant(struct vm *vm);
void iommu_vm_gone(struct vm *vm);
/* Puts function bdf in vm's domain, created with the first function: its
 * guest RAM mapped at guest-physical addresses, read and write. -ENODEV
 * without an IOMMU (a VM with pci= is then refused), -EBUSY when another VM
 * has it. A function pci_enable() put in the host domain leaves it: the
 * caller must have claimed the function (no driver of utsuwa's has it). */
int iommu_attach_vm(struct vm *vm, u16 bdf);
/* Blocks bdf's DMA again; frees vm's domain with its last function. */
void iommu_detach_vm(struct vm *vm, u16 bdf);
/* Takes every fault the IOMMU logged: one log line each (function, address,
 * direction, the VM that owns the function), and that VM stopped with a
 * report. On CPU 0, from its scheduler loop, which the timer tick wakes at
 * least once a tick (not in the tick's handler: stopping a VM takes its lock). */
void iommu_poll_faults(void);

/* The drivers, chosen by the ACPI table found (IVRS, DMAR). */
extern const struct iommu_ops iommu_amd_ops;
extern const struct iommu_ops iommu_vtd_ops;

#endif
