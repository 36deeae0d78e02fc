/*
 * The machine's PCI functions, as utsuwa's drivers see them (drivers/pci.c):
 * found at boot by walking every bus reachable from bus 0 through
 * PCI-to-PCI bridges, with their BARs sized, and the means a driver needs:
 * configuration access, an uncached mapping of a memory BAR, bus mastering,
 * and MSI-X (or MSI) delivering to a host vector. Layouts: PCI Local Bus
 * 3.0, 6.1-6.2 (configuration header), 6.7 (capabilities), 6.8 (MSI, MSI-X);
 * PCI-to-PCI Bridge 1.2, 3.2 (type 1 header).
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include "hv/types.h"

#define PCI_NR_BARS 6

struct pci_bar {
	u64 base;  /* physical (memory) or port (I/O); 0 when unimplemented */
	u64 size;
	bool io;
	bool is64;      /* takes this BAR and the next */
	bool prefetch;
};

struct pci_func {
	u8 bus, dev, fn;
	u16 vendor, device;
	u8 class, subclass, prog_if, revision;
	u8 header_type; /* bits 6:0: 0 device, 1 PCI-to-PCI bridge */
	struct pci_bar bar[PCI_NR_BARS];
	bool claimed;   /* a driver took it, or a VM (pci=, core/vm_passthru.c) */
	const char *owner; /* who claimed it, for messages: "e1000e", "vm 'a'" */
	struct pci_func *next;
};

/* Configuration registers (PCI 3.0, Figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001 /* spelled as in devices/pci_host.h: both may be included */
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_STATUS_SIG_TARGET_ABORT BIT(11)
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 header */
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* Walks the buses, logs one line per function, keeps the list. Once, at boot. */
void pci_scan(void);
/* The functions found, in bus order. */
struct pci_func *pci_first(void);
/* The next unclaimed function with this class code (class:subclass:prog_if,
 * prog_if -1 for any), or NULL; marks it claimed. */
struct pci_func *pci_claim_class(u8 class, u8 subclass, int prog_if);
/* Likewise by vendor and device ID. */
struct pci_func *pci_claim_id(u16 vendor, u16 device);
/* The function at bus:dev.fn, claimed or not, or NULL. */
struct pci_func *pci_find(u8 bus, u8 dev, u8 fn);

u32 pci_read32(const struct pci_func *f, u16 off);
u16 pci_read16(const struct pci_func *f, u16 off);
u8 pci_read8(const struct pci_func *f, u16 off);
void pci_write32(const struct pci_func *f, u16 off, u32 v);
void pci_write16(const struct pci_func *f, u16 off, u16 v);

/* The offset of the first capability with this ID after `after` (0: from the
 * start), or 0 when none. */
u8 pci_find_cap(const struct pci_func *f, u8 id, u8 after);

/* Memory BAR n mapped uncached in the identity map: its address, or NULL. */
volatile void *pci_map_bar(struct pci_func *f, unsigned n);
/* Memory decoding and bus mastering on, the INTx line off (we use MSI). */
void pci_enable(struct pci_func *f);

/*
 * Gives f's interrupt `entry` (its MSI-X table entry; with only MSI, entry
 * 0) a fresh host vector that runs fn(ctx) on the boot CPU, and enables
 * MSI-X (or MSI). Returns the vector, or a negative errno (-ENODEV: the
 * function has neither, -ERANGE: no such entry).
 */
int pci_irq_route(struct pci_func *f, unsigned entry, void (*fn)(void *ctx), void *ctx);
/* Points entry at an already registered host vector again (after a function
 * reset cleared its MSI-X table or MSI registers). 0 or as above. */
int pci_irq_reroute(struct pci_func *f, unsigned entry, u8 vector);

#endif
