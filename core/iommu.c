/*
 * The IOMMU as utsuwa uses it (drivers/iommu.h), over whichever driver the
 * ACPI tables call for: AMD-Vi for an IVRS, VT-d for a DMAR.
 *
 * What a device may reach (docs/iommu.md):
 *   - a function nobody drives, and the IOMMU itself: nothing (blocked from
 *     iommu_init on);
 *   - a function utsuwa drives (pci_enable attaches it): the host domain,
 *     an identity map of the rings and buffers the drivers grant, and the RAM
 *     of every VM (disk data moves straight between the disk and a VM's RAM);
 *   - a function passed through to a VM: that VM's domain, its RAM at
 *     guest-physical addresses.
 * The hypervisor's code, data, heap and page tables are in no domain.
 */
#include "drivers/iommu.h"
#include "arch/x86/acpi.h"
#include "drivers/pci.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/gmem.h"
#include "hv/spinlock.h"
#include "hv/vm.h"
#include "hv/vm_lifecycle.h"

#define MAX_HOST_FUNCS 32
#define MAX_VM_FUNCS 32
#define FAULT_LINES_PER_POLL 8 /* a device in a loop must not drown the log */

static const struct iommu_ops *ops;
static struct iommu_domain *host;
static u16 host_bdfs[MAX_HOST_FUNCS];
static unsigned nr_host;
static u64 host_faults, faults_unshown;

/* Functions passed through: which VM owns each, and each VM's domain. */
static struct {
	u16 bdf;
	struct vm *vm;
} owners[MAX_VM_FUNCS];
static unsigned nr_owned;
static struct iommu_domain *vm_domains[CONFIG_MAX_VMS];
static spinlock_t lock = SPINLOCK_INIT; /* owners, vm_domains, host_bdfs */

static void acpi_say(void *ctx, const char *msg)
{
	kprintf("%s\n", msg);
}

static unsigned nr_functions(void)
{
	unsigned n = 0;

	for (struct pci_func *f = pci_first(); f; f = f->next)
		n++;
	return n;
}

int iommu_init(void)
{
	const struct iommu_ops *drv = &iommu_amd_ops;
	const u8 *t;
	u32 len;
	int ret;

	t = acpi_get_table(&phys_view_identity, &boot_acpi, "IVRS", &len, acpi_say, NULL);
	if (!t) {
		drv = &iommu_vtd_ops;
		t = acpi_get_table(&phys_view_identity, &boot_acpi, "DMAR", &len, acpi_say, NULL);
	}
	if (!t) {
		kprintf("iommu: none (no IVRS or DMAR): devices' DMA is unrestricted\n");
		return 0;
	}
	ret = drv->init(t, len);
	if (ret == -ENODEV && !drv->domain_new) {
		kprintf("iommu: %.4s found, but no %s driver: devices' DMA is unrestricted\n",
			(const char *)t, drv->name);
		return 0;
	}
	if (ret) {
		/* The drivers turn translation on last: a failure leaves it off. */
		kprintf("iommu: %s failed (error %d): devices' DMA is unrestricted\n", drv->name,
			ret);
		return ret;
	}
	/* Translation is on and every function blocked: without the host
	 * domain no device of ours could work. */
	host = drv->domain_new();
	if (!host)
		panic("iommu: no memory for the host domain");
	ops = drv;
	kprintf("iommu: %s on: DMA of all %u PCI functions blocked until attached\n", ops->name,
		nr_functions());
	return 0;
}

const struct iommu_ops *iommu_active(void)
{
	return ops;
}

int iommu_grant_host(u64 pa, u64 size, unsigned perm)
{
	u64 start = ALIGN_DOWN(pa, PAGE_SIZE), end = ALIGN_UP(pa + size, PAGE_SIZE);

	if (!ops)
		return 0;
	return ops->map(host, start, start, end - start, perm);
}

int iommu_revoke_host(u64 pa, u64 size)
{
	u64 start = ALIGN_DOWN(pa, PAGE_SIZE), end = ALIGN_UP(pa + size, PAGE_SIZE);

	if (!ops)
		return 0;
	return ops->unmap(host, start, end - start);
}

int iommu_attach_host(u16 bdf)
{
	int ret;

	if (!ops)
		return 0;
	ret = ops->attach(host, bdf);
	if (ret) {
		kprintf("iommu: %02x:%02x.%u: cannot join the host domain (error %d)\n", bdf >> 8,
			(bdf >> 3) & 31, bdf & 7, ret);
		return ret;
	}
	spin_lock(&lock);
	bool known = false;
	for (unsigned i = 0; i < nr_host; i++)
		known |= host_bdfs[i] == bdf;
	if (!known && nr_host < MAX_HOST_FUNCS)
		host_bdfs[nr_host++] = bdf;
	spin_unlock(&lock);
	return 0;
}

void iommu_report(void)
{
	unsigned all = nr_functions();

	if (!ops)
		return;
	kprintf("iommu: %s: %u functions in the host domain, %u blocked, %u in VMs\n", ops->name,
		nr_host, all - nr_host - nr_owned, nr_owned);
}

u64 iommu_host_faults(void)
{
	return host_faults;
}

/* A VM's RAM in domain d at host-physical (host domain) or guest-physical
 * (the VM's) addresses. The chunks do not move while the VM exists: a
 * restore or a migration builds a new VM with new RAM (core/vm.c). */
static int map_ram(struct iommu_domain *d, struct vm *vm, bool at_gpa)
{
	const struct gmem *g = &vm->gmem;

	for (u64 i = 0; i < g->nr_chunks; i++) {
		u64 hpa = g->chunks[i], iova = at_gpa ? i * GMEM_CHUNK : hpa;
		int ret = hpa ? ops->map(d, iova, hpa, GMEM_CHUNK, IOMMU_READ | IOMMU_WRITE) : 0;

		if (ret) /* 0: the PCI hole, no RAM there (include/hv/gmem_layout.h) */
			return ret;
	}
	return 0;
}

int iommu_vm_ram_grant(struct vm *vm)
{
	int ret = ops ? map_ram(host, vm, false) : 0;

	if (ret)
		kprintf("iommu: vm %s: its RAM cannot be granted to the disks (error %d)\n",
			vm->name, ret);
	return ret;
}

void iommu_vm_gone(struct vm *vm)
{
	if (!ops)
		return;
	for (unsigned i = nr_owned; i-- > 0;)
		if (owners[i].vm == vm)
			iommu_detach_vm(vm, owners[i].bdf);
	for (u64 i = 0; i < vm->gmem.nr_chunks; i++)
		if (vm->gmem.chunks[i])
			ops->unmap(host, vm->gmem.chunks[i], GMEM_CHUNK);
}

int iommu_attach_vm(struct vm *vm, u16 bdf)
{
	struct iommu_domain *d;
	int ret;

	if (!ops)
		return -ENODEV;
	if (nr_owned == MAX_VM_FUNCS)
		return -ENOSPC;
	for (unsigned i = 0; i < nr_owned; i++)
		if (owners[i].bdf == bdf)
			return -EBUSY;
	d = vm_domains[vm->id];
	if (!d) {
		d = ops->domain_new();
		if (!d)
			return -ENOMEM;
		ret = map_ram(d, vm, true);
		if (ret) {
			ops->domain_free(d);
			return ret;
		}
		vm_domains[vm->id] = d;
	}
	ret = ops->attach(d, bdf);
	if (ret)
		return ret;
	spin_lock(&lock);
	owners[nr_owned++] = (typeof(owners[0])){ .bdf = bdf, .vm = vm };
	/* pci_enable() may have put it in the host domain on the way: it
	 * leaves it (the caller claimed the function, so no driver of ours has it). */
	for (unsigned i = 0; i < nr_host; i++)
		if (host_bdfs[i] == bdf)
			host_bdfs[i--] = host_bdfs[--nr_host];
	spin_unlock(&lock);
	return 0;
}

void iommu_detach_vm(struct vm *vm, u16 bdf)
{
	bool last = true;

	if (!ops)
		return;
	ops->attach(NULL, bdf);
	spin_lock(&lock);
	for (unsigned i = 0; i < nr_owned; i++)
		if (owners[i].bdf == bdf && owners[i].vm == vm) {
			owners[i] = owners[--nr_owned];
			break;
		}
	for (unsigned i = 0; i < nr_owned; i++)
		last &= owners[i].vm != vm;
	spin_unlock(&lock);
	if (last && vm_domains[vm->id]) {
		ops->domain_free(vm_domains[vm->id]);
		vm_domains[vm->id] = NULL;
	}
}

static struct vm *owner_of(u16 bdf)
{
	struct vm *vm = NULL;

	spin_lock(&lock);
	for (unsigned i = 0; i < nr_owned; i++)
		if (owners[i].bdf == bdf)
			vm = owners[i].vm;
	spin_unlock(&lock);
	return vm;
}

/* The VM's device did DMA it had no right to: the VM is stopped as a vCPU
 * crash stops it (core/vm_report.c), with its on_crash= choice. */
static void stop_vm(struct vm *vm, const struct iommu_fault *f)
{
	if (vm->state != VM_RUNNING)
		return;
	kprintf("utsuwa: vm %s: stopped: DMA fault of its device %02x:%02x.%u at 0x%lx (%s)\n",
		vm->name, f->bdf >> 8, (f->bdf >> 3) & 31, f->bdf & 7, f->addr, f->what);
	switch (vm->cfg.on_crash) {
	case ON_CRASH_RESET:
		kprintf("utsuwa: vm %s: reset (on_crash=reset)\n", vm->name);
		vm_reset_request(vm);
		break;
	case ON_CRASH_PAUSE:
		kprintf("utsuwa: vm %s: paused (on_crash=pause)\n", vm->name);
		vm_crash_pause(vm);
		break;
	default:
		vm_end(vm, VM_STOPPED, 0);
	}
}

void iommu_poll_faults(void)
{
	struct iommu_fault f;
	unsigned shown = 0;

	if (!ops)
		return;
	while (ops->fault_next(&f)) {
		struct vm *vm = f.source_unknown ? NULL : owner_of(f.bdf);

		if (f.source_unknown) {
			/* No device, no address: nothing to stop, only to say. */
			host_faults++;
			kprintf("iommu: DMA fault: %s (unit %02x:%02x.%u): device and address "
				"unknown\n", f.what, f.bdf >> 8, (f.bdf >> 3) & 31, f.bdf & 7);
			continue;
		}
		if (!vm)
			host_faults++;
		if (shown++ < FAULT_LINES_PER_POLL)
			kprintf("iommu: DMA fault: %02x:%02x.%u %s 0x%lx (%s) %s%s\n", f.bdf >> 8,
				(f.bdf >> 3) & 31, f.bdf & 7, f.write ? "write" : "read", f.addr,
				f.what, vm ? "vm " : "host", vm ? vm->name : "");
		else
			faults_unshown++;
		if (vm)
			stop_vm(vm, &f);
	}
	if (faults_unshown && shown <= FAULT_LINES_PER_POLL) {
		kprintf("iommu: %lu more DMA faults not shown\n", faults_unshown);
		faults_unshown = 0;
	}
}
