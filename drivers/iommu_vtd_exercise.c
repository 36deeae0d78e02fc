/*
 * VT-d on a real (or emulated) machine before the common layer
 * (core/iommu.c) drives it: iommu_vtd_exercise() finds the DMAR, runs
 * iommu_vtd_ops.init, puts every PCI function but the second NVMe
 * controller in an identity-mapped host domain of [0, ram_end), and takes
 * the ops through detach, re-attach, unmap and map once, logging each
 * result; the second NVMe controller stays blocked, so its driver's first
 * command fetch faults. iommu_vtd_exercise_faults() logs what the units
 * recorded. (NVMe because QEMU's virtio devices bypass the IOMMU unless
 * iommu_platform=on, which utsuwa's virtio driver does not negotiate.)
 * The common layer replaces all of this; it may drop the file.
 */
#include "drivers/iommu_vtd.h"
#include "drivers/pci.h"
#include "arch/x86/acpi.h"
#include "hv/console.h"

static void acpi_report(void *ctx, const char *msg) { kprintf("iommu: vt-d exercise: %s\n", msg); }

static void show(const char *what, int err)
{
	kprintf("iommu: vt-d exercise: %s: %s (%d)\n", what, err ? "FAILED" : "ok", err);
}

static struct iommu_domain *host;

struct iommu_domain *iommu_vtd_exercise_host(void) { return host; }

int iommu_vtd_exercise(u64 ram_end)
{
	const struct iommu_ops *ops = &iommu_vtd_ops;
	u64 pa = acpi_find_table(&phys_view_identity, &boot_acpi, "DMAR", acpi_report, NULL);
	const u8 *hdr;
	struct iommu_domain *spare;
	struct pci_func *victim = NULL;
	unsigned nr_nvme = 0;
	u32 len;
	int err;

	if (!pa) {
		kprintf("iommu: vt-d exercise: no DMAR table\n");
		return 0;
	}
	hdr = phys_get(&phys_view_identity, pa, 36);
	len = hdr ? get_le32(hdr + 4) : 0;
	hdr = len ? phys_get(&phys_view_identity, pa, len) : NULL;
	if (!hdr)
		return -EINVAL;
	err = ops->init(hdr, len);
	show("init", err);
	if (err)
		return err;

	host = ops->domain_new();
	show("host domain", host ? 0 : -ENOMEM);
	if (!host)
		return -ENOMEM;
	show("identity map of RAM", ops->map(host, 0, 0, ram_end, IOMMU_READ | IOMMU_WRITE));
	/* Refusals the interface promises. */
	show("unaligned map refused", ops->map(host, 0x1234, 0x1234, 0x1000, IOMMU_READ) == -EINVAL ? 0 : -1);
	show("conflicting map refused", ops->map(host, 0, 0x1000, 0x1000, IOMMU_READ) == -EEXIST ? 0 : -1);

	for (struct pci_func *f = pci_first(); f; f = f->next) {
		u16 bdf = PCI_BDF(f->bus, f->dev, f->fn);

		if (f->class == 0x01 && f->subclass == 0x08 && ++nr_nvme == 2) {
			victim = f;
			kprintf("iommu: vt-d exercise: %02x:%02x.%u (NVMe) left blocked\n", f->bus,
				f->dev, f->fn);
			continue;
		}
		err = ops->attach(host, bdf);
		kprintf("iommu: vt-d exercise: attach %02x:%02x.%u to the host domain: %d\n", f->bus,
			f->dev, f->fn, err);
	}
	if (victim) {
		u16 bdf = PCI_BDF(victim->bus, victim->dev, victim->fn);

		/* Present, then blocked again: the device-selective context-cache and
		 * domain-selective IOTLB invalidations on the way. */
		show("attach the NVMe function", ops->attach(host, bdf));
		show("detach it again", ops->attach(NULL, bdf));
	}
	/* A spare domain attached nowhere, mapped and freed. */
	spare = ops->domain_new();
	show("spare domain", spare ? 0 : -ENOMEM);
	if (spare) {
		show("spare map", ops->map(spare, 1ULL << 30, 0x100000, 0x10000, IOMMU_READ));
		show("spare unmap", ops->unmap(spare, 1ULL << 30, 0x10000));
		ops->domain_free(spare);
	}
	/* An unmap with an IOTLB flush on a live domain, then the page back. */
	show("unmap a host page", ops->unmap(host, 0x7000, 0x1000));
	show("map it again", ops->map(host, 0x7000, 0x7000, 0x1000, IOMMU_READ | IOMMU_WRITE));
	return 0;
}

void iommu_vtd_exercise_faults(void)
{
	struct iommu_fault f;
	unsigned n = 0;

	while (n < 16 && iommu_vtd_ops.fault_next(&f)) {
		kprintf("iommu: vt-d exercise: fault %02x:%02x.%u %s %lx: %s\n", f.bdf >> 8,
			(f.bdf >> 3) & 0x1f, f.bdf & 7, f.write ? "write" : "read", f.addr, f.what);
		n++;
	}
	kprintf("iommu: vt-d exercise: %u fault(s) taken\n", n);
}
