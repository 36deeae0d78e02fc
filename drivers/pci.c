/*
 * Finding the machine's PCI functions (drivers/pci.h). Configuration space
 * is reached through configuration mechanism 1, the 0xCF8 address and 0xCFC
 * data ports (PCI 3.0, 3.2.2.3.2), which every PC chipset has and which
 * covers the 256-byte space where MSI and MSI-X live; ECAM (the ACPI MCFG)
 * would only add the PCIe extended space, which no driver here needs.
 */
#include "drivers/pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/spinlock.h"
#include "asm/io.h"
#include "lib/format.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_MAX_BUS 256

static struct pci_func *funcs, **funcs_tail = &funcs;
/* The address/data pair is one shared register window. */
static spinlock_t config_lock;

static void cfg_select(const struct pci_func *f, u16 off)
{
	outl(PCI_CONFIG_ADDRESS, BIT(31) | (u32)f->bus << 16 | (u32)f->dev << 11 |
				 (u32)f->fn << 8 | (off & 0xfc));
}

u32 pci_read32(const struct pci_func *f, u16 off)
{
	u32 v;

	spin_lock(&config_lock);
	cfg_select(f, off);
	v = inl(PCI_CONFIG_DATA);
	spin_unlock(&config_lock);
	return v;
}

u16 pci_read16(const struct pci_func *f, u16 off)
{
	return (u16)(pci_read32(f, off) >> (8 * (off & 2)));
}

u8 pci_read8(const struct pci_func *f, u16 off)
{
	return (u8)(pci_read32(f, off) >> (8 * (off & 3)));
}

void pci_write32(const struct pci_func *f, u16 off, u32 v)
{
	spin_lock(&config_lock);
	cfg_select(f, off);
	outl(PCI_CONFIG_DATA, v);
	spin_unlock(&config_lock);
}

/* A 16-bit write touches only its two bytes (the byte enables), so it never
 * writes back a neighbour's write-1-to-clear bits (the status register). */
void pci_write16(const struct pci_func *f, u16 off, u16 v)
{
	spin_lock(&config_lock);
	cfg_select(f, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
	spin_unlock(&config_lock);
}

u8 pci_find_cap(const struct pci_func *f, u8 id, u8 after)
{
	u8 pos = after ? pci_read8(f, after + 1) : pci_read8(f, PCI_CAP_PTR);

	if (!after && !(pci_read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	/* At most 48 capabilities fit in 192 bytes: a looping list ends too. */
	for (unsigned n = 0; n < 48 && pos >= 0x40; n++) {
		pos &= 0xfc;
		if (pci_read8(f, pos) == id)
			return pos;
		pos = pci_read8(f, pos + 1);
	}
	return 0;
}

/*
 * Sizes BAR n (PCI 3.0, 6.2.5.1): write all ones, read back which address
 * bits stick, restore. Decoding is off meanwhile (the caller), so the
 * transient address decodes nothing. Returns how many BAR slots it took.
 */
static unsigned size_bar(struct pci_func *f, unsigned n)
{
	u16 off = PCI_BAR0 + 4 * n;
	u32 lo = pci_read32(f, off), mask_lo, hi = 0, mask_hi = 0;
	struct pci_bar *b = &f->bar[n];
	u64 mask;

	pci_write32(f, off, ~0u);
	mask_lo = pci_read32(f, off);
	pci_write32(f, off, lo);
	if (lo & 1) { /* I/O space */
		b->io = true;
		b->base = lo & ~3u;
		mask = (mask_lo & ~3u) | 0xffff0000u;
		b->size = mask_lo ? (u32)(~mask + 1) : 0;
		return 1;
	}
	b->prefetch = lo & 8;
	b->is64 = ((lo >> 1) & 3) == 2;
	if (b->is64 && n + 1 < PCI_NR_BARS) {
		hi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, ~0u);
		mask_hi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, hi);
	} else {
		mask_hi = ~0u;
	}
	mask = ((u64)mask_hi << 32) | (mask_lo & ~0xfu);
	b->base = ((u64)hi << 32) | (lo & ~0xfu);
	b->size = (mask_lo & ~0xfu) ? ~mask + 1 : 0;
	return b->is64 ? 2 : 1;
}

static void size_bars(struct pci_func *f)
{
	unsigned nr = (f->header_type & 0x7f) == 0 ? 6 : (f->header_type & 0x7f) == 1 ? 2 : 0;
	u16 cmd = pci_read16(f, PCI_COMMAND);

	pci_write16(f, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned n = 0; n < nr;)
		n += size_bar(f, n);
	pci_write16(f, PCI_COMMAND, cmd);
}

static const char *class_name(const struct pci_func *f)
{
	switch (f->class) {
	case 0x01: return f->subclass == 0x08 ? "NVMe" : f->subclass == 0x06 ? "SATA" : "storage";
	case 0x02: return "network";
	case 0x03: return "display";
	case 0x06: return f->subclass == 0x04 ? "PCI bridge" : "bridge";
	case 0x0c: return "serial bus";
	default: return "other";
	}
}

static void log_func(const struct pci_func *f)
{
	char bars[160];
	int n = 0;

	bars[0] = 0;
	for (unsigned i = 0; i < PCI_NR_BARS && n < (int)sizeof(bars) - 40; i++)
		if (f->bar[i].size)
			n += fmt_snprintf(bars + n, sizeof(bars) - (size_t)n, " bar%u=%s%lx+%lx", i,
					  f->bar[i].io ? "io:" : "", f->bar[i].base, f->bar[i].size);
	kprintf("pci: %02x:%02x.%u %04x:%04x class %02x%02x%02x (%s)%s\n", f->bus, f->dev, f->fn,
		f->vendor, f->device, f->class, f->subclass, f->prog_if, class_name(f), bars);
}

static void scan_bus(unsigned bus, u64 *seen);

static void scan_func(unsigned bus, unsigned dev, unsigned fn, u64 *seen)
{
	struct pci_func probe = { .bus = (u8)bus, .dev = (u8)dev, .fn = (u8)fn }, *f;
	u32 id = pci_read32(&probe, PCI_VENDOR_ID), cr;

	if ((id & 0xffff) == 0xffff) /* no function answers */
		return;
	f = kzalloc(sizeof(*f));
	if (!f) {
		kprintf("pci: out of memory at %02x:%02x.%u\n", bus, dev, fn);
		return;
	}
	*f = probe;
	f->vendor = (u16)id;
	f->device = (u16)(id >> 16);
	cr = pci_read32(f, PCI_CLASS_REVISION);
	f->revision = (u8)cr;
	f->prog_if = (u8)(cr >> 8);
	f->subclass = (u8)(cr >> 16);
	f->class = (u8)(cr >> 24);
	f->header_type = pci_read8(f, PCI_HEADER_TYPE);
	size_bars(f);
	*funcs_tail = f;
	funcs_tail = &f->next;
	log_func(f);
	/* The firmware numbered the buses behind bridges (we do not renumber). */
	if ((f->header_type & 0x7f) == 1) {
		unsigned secondary = pci_read8(f, PCI_SECONDARY_BUS);

		if (secondary > bus)
			scan_bus(secondary, seen);
	}
}

static void scan_bus(unsigned bus, u64 *seen)
{
	if (seen[bus / 64] & BIT(bus % 64))
		return; /* a bridge pointing back: already walked */
	seen[bus / 64] |= BIT(bus % 64);
	for (unsigned dev = 0; dev < 32; dev++) {
		struct pci_func probe = { .bus = (u8)bus, .dev = (u8)dev };

		if (pci_read16(&probe, PCI_VENDOR_ID) == 0xffff)
			continue;
		/* Functions 1-7 exist only on a multi-function device (bit 7). */
		unsigned nr_fn = pci_read8(&probe, PCI_HEADER_TYPE) & 0x80 ? 8 : 1;
		for (unsigned fn = 0; fn < nr_fn; fn++)
			scan_func(bus, dev, fn, seen);
	}
}

void pci_scan(void)
{
	static bool scanned;
	u64 seen[PCI_MAX_BUS / 64] = { 0 };
	unsigned n = 0;

	if (scanned)
		return; /* once: core/hv.c scans before the passthrough claims */
	scanned = true;

	/* Mechanism 1 absent: the address port does not keep what is written. */
	outl(PCI_CONFIG_ADDRESS, BIT(31));
	if (inl(PCI_CONFIG_ADDRESS) != BIT(31)) {
		kprintf("pci: no configuration mechanism 1; no PCI devices used\n");
		return;
	}
	scan_bus(0, seen);
	for (struct pci_func *f = funcs; f; f = f->next)
		n++;
	kprintf("pci: %u function%s\n", n, n == 1 ? "" : "s");
}

struct pci_func *pci_first(void)
{
	return funcs;
}

struct pci_func *pci_claim_class(u8 class, u8 subclass, int prog_if)
{
	for (struct pci_func *f = funcs; f; f = f->next)
		if (!f->claimed && f->class == class && f->subclass == subclass &&
		    (prog_if < 0 || f->prog_if == prog_if)) {
			f->claimed = true;
			return f;
		}
	return NULL;
}

struct pci_func *pci_claim_id(u16 vendor, u16 device)
{
	for (struct pci_func *f = funcs; f; f = f->next)
		if (!f->claimed && f->vendor == vendor && f->device == device) {
			f->claimed = true;
			return f;
		}
	return NULL;
}

struct pci_func *pci_find(u8 bus, u8 dev, u8 fn)
{
	for (struct pci_func *f = funcs; f; f = f->next)
		if (f->bus == bus && f->dev == dev && f->fn == fn)
			return f;
	return NULL;
}
