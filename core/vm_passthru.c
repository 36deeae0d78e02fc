/*
 * PCI passthrough (pci= in a VM's configuration; docs/passthrough.md): one
 * device unit per function, wiring the guest's view (devices/pci_passthru.c)
 * to the real function (drivers/pci.h) and to the VM: its BARs mapped
 * uncached in the nested tables where the guest puts them, the MSI-X table
 * and PBA pages trapped, its MSI(-X) on host vectors turned into the
 * guest's messages, its DMA confined by the IOMMU (drivers/iommu.h), and
 * the function reset when the VM resets or ends.
 */
#include "hv/vm_passthru.h"
#include "hv/bus.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/device.h"
#include "hv/gmem.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "arch/x86/time.h"
#include "devices/apic_bus.h"
#include "devices/pci_host.h"
#include "devices/pci_passthru.h"
#include "drivers/hw.h"
#include "drivers/iommu.h"
#include "drivers/pci.h"
#include "lib/format.h"
#include "lib/string.h"

#define PT_FIRST_SLOT 16
/* Where "firmware" places the BARs: 64 MiB per function from 0xd0000000,
 * inside the PCI window [0xc0000000, 0xfeb00000) after the virtio BARs. */
#define PT_WINDOW 0xd0000000ULL
#define PT_WINDOW_PER_FN 0x4000000ULL
#define PT_OWNER_FREE "passthrough"
#define PT_APIC_START 0xfec00000ULL /* I/O APIC ... */
#define PT_APIC_END 0xfef00000ULL   /* ... through the local APIC's MiB */

/* PCI Express capability: Device Capabilities and Device Control (PCIe Base
 * 3.0, 7.8.3-7.8.4); power management: PMCSR (PCI Bus Power Management 1.2,
 * 3.2.4). */
#define EXP_DEVCAP 4
#define EXP_DEVCAP_FLR BIT(28)
#define EXP_DEVCTL 8
#define EXP_DEVCTL_FLR BIT(15)
#define PM_CSR 4
#define PM_CSR_STATE 3
#define PM_D3HOT 3

/* A function of the machine that a VM has or may have: its host vectors
 * live as long as utsuwa (there is no irq_free), so a function keeps them
 * from one VM to the next. CPU 0 only, but owner (read by the interrupt). */
struct pt_host;
struct pt_vec {
	struct pt_host *h;
	u8 entry;
};
struct pt_host {
	struct pci_func *f;
	u8 vector[PT_MAX_VECTORS];
	unsigned nr_routed;
	struct pt_vec vec[PT_MAX_VECTORS];
	struct vm_pt *owner; /* atomic: the interrupt handler reads it */
	char owner_name[VM_NAME_MAX + 8];
};

struct vm_pt_trap {
	struct vm_pt *p;
	unsigned bar;
	u64 off;   /* of the trapped range in the BAR */
	u64 gpa;   /* where it is registered on vm->mmio; 0: not */
	/* What is mapped straight in the nested tables (before and after the
	 * trapped range): only these are ever unmapped, never the guest's RAM
	 * a BAR was refused over. */
	struct {
		u64 gpa, len;
	} piece[2];
};

struct vm_pt {
	struct vm *vm;
	struct pt_host *h;
	char name[16]; /* "pci 00:05.0" */
	struct pci_passthru pt;
	struct vm_pt_trap trap[PCI_NR_BARS];
	volatile void *real[PCI_NR_BARS]; /* the real BARs in utsuwa's map */
};

static struct pt_host hosts[CONFIG_MAX_VMS * VM_MAX_PCI];

/* ---- the real function ---- */

static u32 real_cfg_read(void *ctx, u8 reg, u8 size)
{
	struct vm_pt *p = ctx;

	return size == 4 ? pci_read32(p->h->f, reg) : size == 2 ? pci_read16(p->h->f, reg) :
								pci_read8(p->h->f, reg);
}

/* Only the command register is ever written (devices/pci_passthru.c). */
static void real_cfg_write(void *ctx, u8 reg, u8 size, u32 val)
{
	struct vm_pt *p = ctx;

	if (size == 4)
		pci_write32(p->h->f, reg, val);
	else if (size == 2)
		pci_write16(p->h->f, reg, (u16)val);
}

static u64 real_bar_read(void *ctx, unsigned bar, u64 off, u8 size)
{
	struct vm_pt *p = ctx;
	volatile u8 *b = p->real[bar];

	if (!b || off + size > p->h->f->bar[bar].size)
		return ~0ULL;
	switch (size) {
	case 1: return mmio_read8(b + off);
	case 2: return mmio_read16(b + off);
	case 4: return mmio_read32(b + off);
	case 8: return mmio_read32(b + off) | (u64)mmio_read32(b + off + 4) << 32;
	}
	return ~0ULL;
}

static void real_bar_write(void *ctx, unsigned bar, u64 off, u8 size, u64 val)
{
	struct vm_pt *p = ctx;
	volatile u8 *b = p->real[bar];

	if (!b || off + size > p->h->f->bar[bar].size)
		return;
	switch (size) {
	case 1: mmio_write8(b + off, (u8)val); break;
	case 2: mmio_write16(b + off, (u16)val); break;
	case 4: mmio_write32(b + off, (u32)val); break;
	case 8:
		mmio_write32(b + off, (u32)val);
		mmio_write32(b + off + 4, (u32)(val >> 32));
		break;
	}
}

/* ---- the trapped pages: MSI-X table and PBA ---- */

static int trap_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct vm_pt_trap *t = dev;

	*val = pci_passthru_trap_read(&t->p->pt, t->bar, t->off + offset, size);
	return 0;
}

static int trap_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct vm_pt_trap *t = dev;

	pci_passthru_trap_write(&t->p->pt, t->bar, t->off + offset, size, val);
	return 0;
}

static const struct io_ops trap_ops = { .read = trap_read, .write = trap_write };

/* ---- the BARs in the VM ---- */

/* [gpa, gpa + len) of the BAR mapped straight to [hpa, hpa + len). */
static void map_piece(struct vm_pt *p, unsigned bar, unsigned n, u64 gpa, u64 hpa, u64 len)
{
	int err;

	if (!len)
		return;
	err = gmem_pt_map_mmio(p->vm, gpa, hpa, len);
	if (!err) {
		p->trap[bar].piece[n].gpa = gpa;
		p->trap[bar].piece[n].len = len;
		return;
	}
	kprintf("utsuwa: vm '%s': %s: BAR %u at %lx%s: not mapped (error %d)\n", p->vm->name,
		p->name, bar, gpa, err == -EEXIST ? " is over RAM or another BAR" : "", err);
}

static void bar_moved(void *ctx, unsigned bar, u64 old_gpa, u64 new_gpa)
{
	struct vm_pt *p = ctx;
	struct vm_pt_trap *t = &p->trap[bar];
	u64 size = p->pt.bar[bar].size, hpa = p->h->f->bar[bar].base, off = 0, len = 0;
	bool trap = pci_passthru_trap_range(&p->pt, bar, &off, &len);

	if (old_gpa) {
		for (unsigned n = 0; n < 2; n++)
			if (t->piece[n].len)
				gmem_pt_unmap(p->vm, t->piece[n].gpa, t->piece[n].len);
		memset(t->piece, 0, sizeof(t->piece));
		if (t->gpa)
			bus_unregister(&p->vm->mmio, t->gpa, t);
		t->gpa = 0;
	}
	if (!new_gpa)
		return;
	/* Over the I/O APIC and local APIC pages the guest would lose them: the
	 * BAR decodes nothing there (as firmware would never place it). */
	if (new_gpa < PT_APIC_END && new_gpa + size > PT_APIC_START) {
		kprintf("utsuwa: vm '%s': %s: BAR %u at %lx overlaps the APICs: not mapped\n",
			p->vm->name, p->name, bar, new_gpa);
		return;
	}
	if (trap) {
		t->p = p;
		t->bar = bar;
		t->off = off;
		if (!bus_register(&p->vm->mmio, new_gpa + off, len, p->name, &trap_ops, t))
			t->gpa = new_gpa + off;
	}
	if (size < PAGE_SIZE || !IS_ALIGNED(new_gpa, PAGE_SIZE))
		return; /* all trapped (a BAR below a page is naturally aligned within one) */
	if (!trap) {
		map_piece(p, bar, 0, new_gpa, hpa, size);
		return;
	}
	map_piece(p, bar, 0, new_gpa, hpa, off);
	map_piece(p, bar, 1, new_gpa + off + len, hpa + off + len, size - off - len);
}

/* ---- interrupts ---- */

static void send(void *ctx, u64 addr, u32 data)
{
	struct vm_pt *p = ctx;
	struct apic_msg msg;

	/* An address outside 0xfeexxxxx is the guest's mistake: it would be
	 * a DMA write, which we do not let the guest aim (6.8.1.4). */
	if (!apic_msi_to_msg(addr, data, &msg) && p->vm->apic_bus)
		apic_bus_deliver(p->vm->apic_bus, &msg);
}

static void host_irq(void *ctx)
{
	struct pt_vec *v = ctx;
	struct vm_pt *p = __atomic_load_n(&v->h->owner, __ATOMIC_ACQUIRE);

	if (p)
		pci_passthru_irq(&p->pt, v->entry);
}

/* The real function's MSI-X entries 0..n-1 (or its MSI) on host vectors:
 * allocated the first time, pointed at again after a reset. */
static int route(struct pt_host *h, unsigned n)
{
	for (unsigned e = 0; e < n; e++) {
		int r;

		if (e < h->nr_routed) {
			r = pci_irq_reroute(h->f, e, h->vector[e]);
		} else {
			h->vec[e] = (struct pt_vec){ h, (u8)e };
			r = pci_irq_route(h->f, e, host_irq, &h->vec[e]);
			if (r >= 0) {
				h->vector[e] = (u8)r;
				h->nr_routed = e + 1;
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- reset ---- */

/* The BARs as firmware left them: a reset may have cleared them, and they
 * never move (docs/passthrough.md). */
static void restore_bars(struct pci_func *f)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];

		if (!b->size)
			continue;
		u32 type = pci_read32(f, PCI_BAR0 + 4 * i) & (b->io ? 3 : 0xf);

		pci_write32(f, PCI_BAR0 + 4 * i, (u32)b->base | type);
		if (b->is64 && i + 1 < PCI_NR_BARS)
			pci_write32(f, PCI_BAR0 + 4 * (i + 1), (u32)(b->base >> 32));
	}
}

/*
 * Bus mastering off first (no DMA into memory about to be reused), then a
 * Function Level Reset when the function has one (PCIe Base 3.0, 6.6.2:
 * wait 100 ms; we do not first wait for Transactions Pending to clear),
 * else D3hot and back to D0 through PMCSR (PCI Bus Power Management 1.2,
 * 3.2.4; 10 ms for the D3hot transitions; a function with No_Soft_Reset
 * keeps its state), else nothing more. Returns how, for the log.
 */
static const char *function_reset(struct pci_func *f)
{
	u8 exp = pci_find_cap(f, PT_CAP_ID_EXP, 0), pm = pci_find_cap(f, PT_CAP_ID_PM, 0);
	const char *how = "bus master off";

	pci_write16(f, PCI_COMMAND, (pci_read16(f, PCI_COMMAND) & ~PCI_COMMAND_MASTER) |
					   PCI_COMMAND_INTX_DISABLE);
	if (exp && (pci_read32(f, exp + EXP_DEVCAP) & EXP_DEVCAP_FLR)) {
		pci_write16(f, exp + EXP_DEVCTL, pci_read16(f, exp + EXP_DEVCTL) | EXP_DEVCTL_FLR);
		udelay(100000);
		how = "FLR";
	} else if (pm) {
		u16 csr = pci_read16(f, pm + PM_CSR) & ~PM_CSR_STATE;

		pci_write16(f, pm + PM_CSR, csr | PM_D3HOT);
		udelay(10000);
		pci_write16(f, pm + PM_CSR, csr);
		udelay(10000);
		how = "D3hot to D0";
	}
	restore_bars(f);
	pci_write16(f, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
	return how;
}

/* ---- the unit ---- */

static struct pt_host *host_of(struct pci_func *f)
{
	struct pt_host *free = NULL;

	for (unsigned i = 0; i < ARRAY_SIZE(hosts); i++) {
		if (hosts[i].f == f)
			return &hosts[i];
		if (!hosts[i].f && !free)
			free = &hosts[i];
	}
	if (free)
		free->f = f;
	return free;
}

static const struct pt_host_ops real_ops = {
	.cfg_read = real_cfg_read,
	.cfg_write = real_cfg_write,
	.bar_moved = bar_moved,
	.bar_read = real_bar_read,
	.bar_write = real_bar_write,
	.send = send,
};

/* A create that failed after saying why: vm_build need not add its own
 * line (vm_passthru_init turns the failure into -EINVAL). CPU 0 only, as
 * every VM creation. */
static bool refused;

static void *refuse(void)
{
	refused = true;
	return NULL;
}

static void *pt_create(struct vm *vm, unsigned idx)
{
	const struct vm_pci *c = &vm->cfg.pci[idx];
	struct pci_func *f = pci_find(c->bus, c->dev, c->fn);
	struct pt_bar bars[PCI_NR_BARS];
	u64 place = PT_WINDOW + idx * PT_WINDOW_PER_FN, end = place + PT_WINDOW_PER_FN;
	struct pt_host *h;
	struct vm_pt *p;
	char id[12];
	int err;

	fmt_snprintf(id, sizeof(id), "%02x:%02x.%u", c->bus, c->dev, c->fn);
	if (!f) {
		kprintf("utsuwa: vm '%s': pci=%s: no such function on this machine\n", vm->name, id);
		return refuse();
	}
	if (f->claimed && f->owner && strcmp(f->owner, PT_OWNER_FREE)) {
		kprintf("utsuwa: vm '%s': pci=%s: in use by %s%s%s\n", vm->name, id,
			strncmp(f->owner, "vm ", 3) ? "utsuwa's " : "", f->owner,
			strncmp(f->owner, "vm ", 3) ? " driver" : "");
		return refuse();
	}
	if ((f->header_type & 0x7f) != 0) {
		kprintf("utsuwa: vm '%s': pci=%s: a bridge cannot be passed through\n", vm->name, id);
		return refuse();
	}
	if (vm->cfg.paging == PAGING_SHADOW) {
		kprintf("utsuwa: vm '%s': pci=%s: needs nested paging, not paging=shadow\n",
			vm->name, id);
		return refuse();
	}
	h = host_of(f);
	p = kzalloc(sizeof(*p));
	if (!h || !p) {
		kfree(p);
		return NULL; /* out of memory: vm_build says so */
	}
	p->vm = vm;
	p->h = h;
	strlcpy(p->name, "pci ", sizeof(p->name));
	strlcpy(p->name + 4, id, sizeof(p->name) - 4);

	/* DMA only into this VM's RAM (drivers/iommu.h), or nowhere. */
	err = iommu_attach_vm(vm, PCI_BDF(c->bus, c->dev, c->fn));
	if (err) {
		kprintf("utsuwa: vm '%s': pci=%s: %s; vm not started\n", vm->name, id,
			err == -ENODEV ? "this machine has no IOMMU to confine its DMA" :
					 "the IOMMU refused it");
		kfree(p);
		return refuse();
	}

	/* The real function as firmware left it, quiet: a reset, memory decoding
	 * on (we map its BARs), INTx# off. */
	function_reset(f);
	memset(bars, 0, sizeof(bars));
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];

		if (!b->size || b->io || !b->base) {
			if (b->size && b->io)
				kprintf("utsuwa: vm '%s': %s: I/O BAR %u not offered to the guest\n",
					vm->name, p->name, i);
			continue;
		}
		bars[i].size = b->size;
		bars[i].flags = (b->is64 ? PCI_BAR_MEM64 : 0) | (b->prefetch ? PCI_BAR_PREFETCH : 0);
		place = (place + b->size - 1) & ~(b->size - 1);
		if (place + b->size <= end) {
			bars[i].place = place;
			place += b->size;
		}
		p->real[i] = pci_map_bar(f, i); /* for the trapped pages' other bytes */
		if (b->is64)
			i++;
	}
	err = pci_passthru_init(&p->pt, &real_ops, p, bars);
	if (!err)
		err = route(h, p->pt.nr_vectors);
	if (!err)
		err = pci_host_add(vm->pci, PCI_DEVFN(PT_FIRST_SLOT + idx, 0), &pci_passthru_cfg_ops,
				   &p->pt);
	if (err) {
		kprintf("utsuwa: vm '%s': pci=%s: cannot be set up (error %d)\n", vm->name, id, err);
		pci_passthru_unmap(&p->pt);
		function_reset(f);
		iommu_detach_vm(vm, PCI_BDF(c->bus, c->dev, c->fn));
		kfree(p);
		return refuse();
	}
	f->claimed = true;
	fmt_snprintf(h->owner_name, sizeof(h->owner_name), "vm '%s'", vm->name);
	f->owner = h->owner_name;
	__atomic_store_n(&h->owner, p, __ATOMIC_RELEASE);
	kprintf("utsuwa: vm '%s': pci=%s (%04x:%04x) at slot %u, %u interrupt vector%s%s\n",
		vm->name, id, f->vendor, f->device, PT_FIRST_SLOT + idx, p->pt.nr_vectors,
		p->pt.nr_vectors == 1 ? "" : "s", p->pt.msix_cap ? " (MSI-X)" : p->pt.msi_cap ? " (MSI)" : "");
	return p;
}

static void pt_reset(void *dev)
{
	struct vm_pt *p = dev;
	const char *how;

	/* The interrupt handler lets go of the device first: the monitor
	 * resets with interrupts on, on the CPU that takes them, and the device
	 * lock is not an interrupt-safe one. What the function raises meanwhile
	 * is dropped (it is being reset). */
	__atomic_store_n(&p->h->owner, NULL, __ATOMIC_RELEASE);
	/* The guest's view next: its BARs unmapped while the function resets. */
	pci_passthru_unmap(&p->pt);
	how = function_reset(p->h->f);
	route(p->h, p->pt.nr_vectors);
	pci_passthru_reset(&p->pt);
	__atomic_store_n(&p->h->owner, p, __ATOMIC_RELEASE);
	kprintf("utsuwa: vm '%s': %s reset (%s)\n", p->vm->name, p->name, how);
}

static void pt_destroy(void *dev)
{
	struct vm_pt *p = dev;
	struct pci_func *f = p->h->f;

	/* No DMA and no interrupt from here on: before the VM's memory goes. */
	__atomic_store_n(&p->h->owner, NULL, __ATOMIC_RELEASE);
	pci_passthru_unmap(&p->pt);
	kprintf("utsuwa: vm '%s': %s released (%s)\n", p->vm->name, p->name, function_reset(f));
	iommu_detach_vm(p->vm, PCI_BDF(f->bus, f->dev, f->fn));
	f->owner = PT_OWNER_FREE; /* still kept from utsuwa's drivers */
	kfree(p);
}

#define PT_UNIT(n)                                                                  \
	static void *pt_create##n(struct vm *vm) { return pt_create(vm, n); }       \
	static const struct device_ops pt_dev##n = {                                \
		.name = "pci-pt" #n, .create = pt_create##n,                        \
		.reset = pt_reset, .destroy = pt_destroy,                           \
	};
PT_UNIT(0)
PT_UNIT(1)
PT_UNIT(2)
PT_UNIT(3)
_Static_assert(VM_MAX_PCI == 4, "one unit per pci=");

int vm_passthru_init(struct vm *vm)
{
	static const struct device_ops *const table[VM_MAX_PCI] = { &pt_dev0, &pt_dev1, &pt_dev2,
								     &pt_dev3 };

	int err;

	if (!vm->cfg.nr_pci)
		return 0;
	refused = false;
	err = vm_devices_create(vm, table, vm->cfg.nr_pci);
	return err && refused ? -EINVAL : err;
}

bool vm_has_passthru(const struct vm *vm)
{
	return vm->cfg.nr_pci != 0;
}

void vm_passthru_reserve(const struct hv_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned j = 0; j < cfg->vms[i].nr_pci; j++) {
			const struct vm_pci *c = &cfg->vms[i].pci[j];
			struct pci_func *f = pci_find(c->bus, c->dev, c->fn);

			if (!f) {
				kprintf("config: vm '%s': pci=%02x:%02x.%u: no such function on "
					"this machine\n", cfg->vms[i].name, c->bus, c->dev, c->fn);
				continue;
			}
			f->claimed = true;
			f->owner = PT_OWNER_FREE;
		}
}
