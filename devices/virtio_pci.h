/*
 * The virtio 1.x PCI transport, modern only (OASIS virtio 1.2, 4.1): a PCI
 * function on the VM's bus 0, vendor 0x1af4, device 0x1040 + the virtio
 * device ID (4.1.2.1), whose capability list (4.1.4) points into one 64-bit
 * memory BAR holding:
 *
 *   0x0000  common configuration (4.1.4.3)
 *   0x1000  ISR status, one byte, read to clear (4.1.4.5)
 *   0x2000  device-specific configuration (4.1.4.6)
 *   0x3000  notifications: queue n at 0x3000 + 4n (4.1.4.4)
 *   0x4000  the MSI-X table, 16 bytes a vector (PCI 3.0, 6.8.2)
 *   0x5000  the MSI-X pending bit array
 *
 * Interrupts: with MSI-X enabled, each queue's and the configuration's
 * vector is sent as an MSI to the VM's local APICs through its APIC bus;
 * without, the ISR bits drive the function's INTx# (pin A), level-triggered,
 * until the ISR is read: through the bus's wiring (devices/pci_intx.h) to the
 * I/O APIC input the DSDT's _PRT names for the slot, which is also what the
 * Interrupt Line register is preset to (docs/platform.md).
 *
 * The BAR is placed in the VM's PCI MMIO window at creation, as firmware
 * would; when the guest moves it or turns memory decoding off, the MMIO
 * range follows (bus_unregister, bus_register).
 *
 * Not implemented: the PCI configuration access capability
 * (VIRTIO_PCI_CAP_PCI_CFG, 4.1.4.9; Linux does not use it), legacy and
 * transitional interfaces, packed queues, queue_reset (4.1.4.3.2).
 */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include "devices/pci_host.h"
#include "devices/virtqueue.h"
#include "hv/spinlock.h"
#include "hv/types.h"

struct vm;
struct apic_bus;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device ID (4.1.2.1) */

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_VERSION_1 32 /* feature bit (6) */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* The BAR's layout (above). */
#define VPCI_COMMON 0x0000
#define VPCI_ISR 0x1000
#define VPCI_DEVICE 0x2000
#define VPCI_NOTIFY 0x3000
#define VPCI_NOTIFY_MULT 4
#define VPCI_MSIX_TABLE 0x4000
#define VPCI_MSIX_PBA 0x5000
#define VPCI_BAR_SIZE 0x8000
#define VPCI_INTX_PIN 1 /* INTA#, as the Interrupt Pin register numbers it */
#define VPCI_BAR 0 /* BAR 0 and 1: 64-bit */

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_MSIX_VECTORS (VIRTIO_MAX_QUEUES + 1)

/* 4.1.4.3: struct virtio_pci_common_cfg, offsets. */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_SIZE 0x3c

/* What a virtio device (virtio-blk, ...) gives the transport. */
struct virtio_dev_ops {
	u16 device_id;   /* 5.x: 2 for a block device */
	u32 class_code;  /* PCI class code */
	u16 nr_queues;   /* at most VIRTIO_MAX_QUEUES */
	u16 queue_size;  /* the most each queue offers, at most VQ_MAX_SIZE */
	u32 cfg_size;    /* bytes of device configuration */
	/* Device features beyond VERSION_1, INDIRECT_DESC and EVENT_IDX. */
	u64 features;
	/* The device configuration, bytes [off, off+size) inside cfg_size. */
	u32 (*cfg_read)(void *dev, u32 off, u8 size);
	/* A driver kicked queue vq (DRIVER_OK, queue enabled, not broken). */
	void (*notify)(void *dev, struct virtq *vq);
	/* The driver reset the device (status 0) or the VM resets: forget
	 * every request; those still in flight must not complete into the rings. */
	void (*reset)(void *dev);
};

struct virtio_pci {
	struct vm *vm;
	char name[16];              /* "virtio-blk0", for log lines */
	const struct virtio_dev_ops *ops;
	void *dev;
	struct apic_bus *apic_bus;  /* MSI-X messages */
	struct pci_intx *intx;      /* INTx#: the bus's wiring (the PCI host's) */
	u8 devfn;
	u64 bar_default;            /* where creation placed the BAR */

	spinlock_t lock;            /* guards everything below but the queues' own */
	struct pci_config pci;
	u64 bar_mapped;             /* base of the registered range; 0: none */
	u32 dfselect, gfselect;
	u64 driver_features;
	u8 status;
	u8 config_generation;
	u16 queue_select;
	u16 msix_config;
	u8 isr;                     /* bit 0 queue, bit 1 configuration (4.1.4.5) */
	bool intx_level;
	struct {
		u32 addr_lo, addr_hi, data, ctrl;
	} msix[VIRTIO_MSIX_VECTORS];
	u32 msix_pba;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/*
 * Creates the function at devfn on vm's PCI host, its BAR at bar_base (in
 * the PCI MMIO window, aligned to VPCI_BAR_SIZE) and mapped. NULL on failure,
 * nothing left registered.
 */
struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name,
				     const struct virtio_dev_ops *ops, void *dev);
/* Unmaps its BAR and frees it (the PCI host is destroyed with the VM). */
void virtio_pci_destroy(struct virtio_pci *vp);
/* Power-on state: the device reset, the BAR where creation put it. */
void virtio_pci_reset(struct virtio_pci *vp);

/* A queue has new used entries the driver wants to hear of: send its
 * vector, or set the ISR and raise INTx#. Any CPU, any context. */
void virtio_pci_queue_interrupt(struct virtio_pci *vp, struct virtq *vq);
/* The device configuration changed, or the device needs a reset (2.1.2). */
void virtio_pci_config_interrupt(struct virtio_pci *vp);
/* Sets NEEDS_RESET and tells the driver (a queue broke: vq_fail). */
void virtio_pci_needs_reset(struct virtio_pci *vp);

/* The MMIO handlers of the BAR (for tests; registered by create). */
extern const struct io_ops virtio_pci_bar_ops;
extern const struct pci_dev_ops virtio_pci_cfg_ops;

/* Snapshot (docs/snapshot.md, "virtio-blk"): the transport's state, queues
 * included; load refuses an impossible one with -EINVAL, nothing changed. */
struct snap_writer;
struct snap_cursor;
int virtio_pci_save(const struct virtio_pci *vp, struct snap_writer *w);
int virtio_pci_load(struct virtio_pci *vp, struct snap_cursor *c);

#endif
