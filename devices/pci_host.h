/*
 * PCI configuration mechanism 1 (PCI Local Bus Specification 3.0, 3.2.2.3.2)
 * and a host bridge: CONFIG_ADDRESS is the dword at port 0xcf8, CONFIG_DATA
 * the four ports 0xcfc-0xcff, read or written a byte, a word or a dword at a
 * time at any offset within the dword.
 *
 * Bus 0 only (there are no PCI-to-PCI bridges): device 0 function 0 is an
 * Intel 82441FX host bridge (the i440FX's PMC, 8086:1237, class 0x060000,
 * header type 0). Everything else reads all ones, as a master abort does,
 * until a device is registered at its devfn with pci_host_add().
 *
 * Only a dword access at 0xcf8 reaches CONFIG_ADDRESS (3.2.2.3.2); byte and
 * word accesses to 0xcf8-0xcfb go to the ISA bus. The one ISA register there
 * on a PC is the Reset Control Register at 0xcf9 (PIIX/ICH): byte accesses
 * to it are handed to the io_ops given with pci_host_set_cf9() (acpi_pm's
 * reset register; writes are made without the host's lock, so a reset they
 * request may reset the host); the other bytes read 0xff and ignore writes.
 *
 * Not implemented: the enhanced configuration mechanism (MMCONFIG) and AMD's
 * extended register numbers in CONFIG_ADDRESS bits 27-24 (such an address
 * selects nothing, so registers 256-4095 never alias 0-255), buses
 * other than 0, the 82441FX's own registers from 0x40 on (PAM, SMRAM, DRAM
 * control: they read 0 and ignore writes).
 */
#ifndef DEVICES_PCI_HOST_H
#define DEVICES_PCI_HOST_H

#include "devices/pci_intx.h"
#include "hv/bus.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define PCI_HOST_BASE 0xcf8
#define PCI_HOST_NR_PORTS 8
#define PCI_HOST_CONFIG_ADDRESS 0 /* offsets in the range */
#define PCI_HOST_CF9 1
#define PCI_HOST_CONFIG_DATA 4
#define PCI_HOST_MAX_DEVS 32

/* CONFIG_ADDRESS (3.2.2.3.2, figure 3-2). */
#define PCI_ADDR_ENABLE 0x80000000u
#define PCI_ADDR_MASK 0x80fffffcu /* bits 30-24 reserved, 1-0 read as 0 */
#define PCI_ADDR_BUS(a) (((a) >> 16) & 0xff)
#define PCI_ADDR_DEVFN(a) (((a) >> 8) & 0xff)
#define PCI_ADDR_REG(a) ((a) & 0xfc)

#define PCI_DEVFN(dev, fn) ((u8)(((dev) << 3) | (fn)))
#define PCI_CFG_SIZE 256

/* Type 0 configuration header (6.1, figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09 /* class code: 24 bits at 0x09-0x0b */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10       /* six BARs, 0x10-0x27 */
#define PCI_NR_BARS 6
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_STATUS_W1C 0xf900 /* error bits 15-11 and 8: a written 1 clears */

/* BAR type bits (6.2.5.1). */
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8

#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x1237 /* 82441FX */
#define PCI_HOST_BRIDGE_CLASS 0x060000
#define PCI_HOST_BRIDGE_REVISION 0x02

/*
 * A device's configuration space, as the host reaches it: reg + size never
 * crosses a dword (reg need not be aligned: a word at 0xcfd is bytes 1-2).
 * Called under the host's lock: a device must not call back into the host.
 */
struct pci_dev_ops {
	u32 (*read)(void *dev, u8 reg, u8 size);
	void (*write)(void *dev, u8 reg, u8 size, u32 val);
};

/*
 * A 256-byte configuration space with the usual semantics, for devices to
 * build on: bytes read as data[]; a write changes only the bits of wmask[],
 * and clears the data bits where w1c[] and the written value are both 1.
 *
 * BARs (pci_config_set_bar): a BAR of size S (a power of two, at least 16 for
 * memory, 4 for I/O) has its address bits below S read-only zero and its
 * type bits read-only; so writing all ones and reading back gives ~(S-1)
 * plus the type bits, from which the OS learns S (PCI 3.0, 6.2.5.1). A 64-bit
 * BAR takes two slots, the second holding the high dword. The device learns
 * of a new address through its own write op (call pci_config_write, then look
 * with pci_config_bar); nothing is mapped until it does.
 */
struct pci_config {
	u8 data[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];
	u8 w1c[PCI_CFG_SIZE];
};

/* IDs, class code and header type 0, all read-only; command/status as the caller sets them. */
void pci_config_init(struct pci_config *cfg, u16 vendor, u16 device, u32 class_code, u8 revision);
u32 pci_config_read(const struct pci_config *cfg, u8 reg, u8 size);
/* The device's own setting of a register: size bytes of v little-endian
 * into the data (pci_config_put) or the write mask (pci_config_put_wmask),
 * whatever the masks say. */
void pci_config_put(struct pci_config *cfg, unsigned reg, unsigned size, u32 v);
void pci_config_put_wmask(struct pci_config *cfg, unsigned reg, unsigned size, u32 m);
void pci_config_write(struct pci_config *cfg, u8 reg, u8 size, u32 val);
/* -EINVAL for a bad slot, size or flags. */
int pci_config_set_bar(struct pci_config *cfg, unsigned bar, u64 size, u32 flags);
/* The address programmed in a BAR (both dwords of a 64-bit one), type bits masked. */
u64 pci_config_bar(const struct pci_config *cfg, unsigned bar);

/* ops for a device that is nothing but its pci_config (dev: the pci_config). */
extern const struct pci_dev_ops pci_config_ops;

struct pci_host_slot {
	u8 devfn;
	const struct pci_dev_ops *ops;
	void *dev;
};

struct pci_host {
	spinlock_t lock;       /* guards everything below; held across device ops */
	u32 address;           /* CONFIG_ADDRESS */
	bool address_ext;      /* reserved bits 30-24 were written (AMD's extended
				* register number): there is no such register */
	struct pci_config bridge;
	struct pci_host_slot slots[PCI_HOST_MAX_DEVS];
	unsigned nr_slots;
	const struct io_ops *cf9_ops;
	void *cf9_dev;
	/* The bus's INTx# lines (devices/pci_intx.h), with their own lock, which
	 * devices take under theirs: nothing asserted at creation, no output
	 * until the owner connects it with pci_intx_init(). Not saved: each
	 * function's level is in its own state, and restored from there. */
	struct pci_intx intx;
};

extern const struct io_ops pci_host_ops; /* PCI_HOST_BASE, PCI_HOST_NR_PORTS */

/* NULL when out of memory. The bridge is at devfn 0. */
struct pci_host *pci_host_create(void);
void pci_host_destroy(struct pci_host *host);

/* Snapshot (docs/snapshot.md, "Device payloads"), in pci_host_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int pci_host_save(const struct pci_host *d, struct snap_writer *w);
int pci_host_load(struct pci_host *d, struct snap_cursor *c);
/* A reboot (PCI RST#): CONFIG_ADDRESS 0 and the host bridge's configuration
 * registers as created. The registered devices and the port 0xcf9 hookup are
 * the owner's wiring and stay; each device resets its own space, if at all. */
void pci_host_reset(struct pci_host *host);

/* Registers a device at devfn on bus 0: -EEXIST when taken, -ENOSPC when
 * full, -EINVAL without a read op. A multi-function device needs function 0
 * with header type bit 7 set for the OS to look at the others. */
int pci_host_add(struct pci_host *host, u8 devfn, const struct pci_dev_ops *ops, void *dev);
/* Byte accesses to port 0xcf9 go to ops (offset 0). */
void pci_host_set_cf9(struct pci_host *host, const struct io_ops *ops, void *dev);

#endif
