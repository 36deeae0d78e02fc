/*
 * The test device: a page of MMIO registers every VM has, so guest tests can
 * check the MMIO exit path (decode, bus dispatch, access sizes, write-back)
 * against known values.
 *
 *   0x00  32-bit scratch, read/write
 *   0x08  64-bit scratch, read/write
 *   0x10  32-bit ID, TESTDEV_ID ("UTSW" in memory order); writes ignored
 *   0x18  32-bit count of the write accesses the device has seen (any
 *         offset, any size); read-only
 *   0x20  8-bit INTx# register: bit f is the level of INTA# of function f
 *         of PCI slot TESTDEV_INTX_SLOT, driven through the bus's INTx#
 *         wiring (devices/pci_intx.h: GSI 16 + (31 + 1 - 1) mod 8 = 23),
 *         as eight functions there would drive it. The functions are not
 *         on the bus (no configuration space): they are wires, for guest
 *         tests of the level-triggered path (wire-OR, Remote IRR, EOI,
 *         masking), as QEMU's pc-testdev drives IRQ lines for
 *         kvm-unit-tests. Reset clears it, releasing the lines.
 *   else  reads 0, writes ignored
 *
 * Registers are little-endian byte arrays: an access of any size (1, 2, 4 or
 * 8 bytes), aligned or not, reads or writes exactly the bytes it covers.
 */
#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include "hv/bus.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define TESTDEV_MMIO_BASE 0xfeb00000ULL
#define TESTDEV_MMIO_SIZE 0x1000ULL

#define TESTDEV_SCRATCH32 0x00
#define TESTDEV_SCRATCH64 0x08
#define TESTDEV_ID_REG 0x10
#define TESTDEV_WRITES 0x18
#define TESTDEV_INTX 0x20

#define TESTDEV_INTX_SLOT 31

#define TESTDEV_ID 0x57535455u /* bytes 'U' 'T' 'S' 'W' */

struct pci_intx;

struct testdev {
	spinlock_t lock; /* guards the fields below */
	u32 scratch32;
	u64 scratch64;
	u32 writes;
	u8 intx;               /* TESTDEV_INTX */
	struct pci_intx *wires; /* where TESTDEV_INTX drives; NULL: nowhere */
};

extern const struct io_ops testdev_ops;

/* NULL when out of memory. */
struct testdev *testdev_create(void);
/* Connects TESTDEV_INTX to the PCI bus's INTx# wiring (after both exist). */
void testdev_set_wires(struct testdev *dev, struct pci_intx *wires);
void testdev_destroy(struct testdev *dev);

/* Snapshot (docs/snapshot.md, "Device payloads"), in testdev_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int testdev_save(const struct testdev *d, struct snap_writer *w);
int testdev_load(struct testdev *d, struct snap_cursor *c);
/* A reboot: the scratch registers, the write count and the INTx# register
 * back to 0, as created (its lines released); a guest test after a reboot
 * sees a fresh device. */
void testdev_reset(struct testdev *dev);

#endif
