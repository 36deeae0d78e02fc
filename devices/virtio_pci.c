/*
 * The virtio 1.x modern PCI transport (devices/virtio_pci.h; OASIS virtio
 * 1.2, 4.1): configuration space and capabilities, the BAR's registers,
 * MSI-X and INTx#.
 */
#include "devices/virtio_pci.h"
#include "devices/apic_bus.h"
#include "hv/bus.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "lib/string.h"

#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_MASKED 1

/* Where the capabilities sit in configuration space. */
#define CAP_MSIX 0x40
#define CAP_COMMON 0x4c
#define CAP_NOTIFY 0x5c
#define CAP_ISR 0x70
#define CAP_DEVICE 0x80

/* 4.1.4: cfg_type of struct virtio_pci_cap. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

#define ISR_QUEUE 1
#define ISR_CONFIG 2

/* struct virtio_pci_cap (4.1.4): 16 bytes, 20 for the notify one. */
static void put_vcap(struct pci_config *c, unsigned at, unsigned next, u8 type, u32 off, u32 len,
		     unsigned cap_len)
{
	pci_config_put(c, at + 0, 1, PCI_CAP_ID_VNDR);
	pci_config_put(c, at + 1, 1, next);
	pci_config_put(c, at + 2, 1, cap_len);
	pci_config_put(c, at + 3, 1, type);
	pci_config_put(c, at + 4, 1, VPCI_BAR);
	pci_config_put(c, at + 8, 4, off);
	pci_config_put(c, at + 12, 4, len);
}

/* The configuration space at power-on (PCI 3.0, 6.1; virtio 4.1.2, 4.1.4). */
static void vpci_config_init(struct virtio_pci *vp)
{
	struct pci_config *c = &vp->pci;
	const struct virtio_dev_ops *o = vp->ops;

	/* 4.1.2.1: non-transitional devices have revision 1 or more. */
	pci_config_init(c, VIRTIO_PCI_VENDOR, (u16)(VIRTIO_PCI_DEVICE_BASE + o->device_id),
			o->class_code, 1);
	pci_config_put_wmask(c, PCI_COMMAND, 2,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	pci_config_put(c, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	pci_config_put(c, PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	pci_config_put(c, PCI_SUBSYSTEM_ID, 2, 0x1100);
	pci_config_set_bar(c, VPCI_BAR, VPCI_BAR_SIZE, PCI_BAR_MEM64);
	pci_config_put(c, PCI_BAR0 + 4 * VPCI_BAR, 4, (u32)vp->bar_default | PCI_BAR_MEM64);
	pci_config_put(c, PCI_BAR0 + 4 * VPCI_BAR + 4, 4, (u32)(vp->bar_default >> 32));
	pci_config_put(c, PCI_CAPABILITY_LIST, 1, CAP_MSIX);
	pci_config_put(c, PCI_INTERRUPT_PIN, 1, VPCI_INTX_PIN);
	pci_config_put_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff);

	/* MSI-X (PCI 3.0, 6.8.2): table and PBA in the BAR; only enable and
	 * function mask are writable. */
	pci_config_put(c, CAP_MSIX, 1, PCI_CAP_ID_MSIX);
	pci_config_put(c, CAP_MSIX + 1, 1, CAP_COMMON);
	pci_config_put(c, CAP_MSIX + 2, 2, VIRTIO_MSIX_VECTORS - 1);
	pci_config_put_wmask(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	pci_config_put(c, CAP_MSIX + 4, 4, VPCI_MSIX_TABLE | VPCI_BAR);
	pci_config_put(c, CAP_MSIX + 8, 4, VPCI_MSIX_PBA | VPCI_BAR);

	put_vcap(c, CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON,
		 VIRTIO_PCI_COMMON_SIZE, 16);
	put_vcap(c, CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY,
		 VPCI_NOTIFY_MULT * o->nr_queues, 20);
	pci_config_put(c, CAP_NOTIFY + 16, 4, VPCI_NOTIFY_MULT); /* notify_off_multiplier */
	put_vcap(c, CAP_ISR, CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 1, 16);
	put_vcap(c, CAP_DEVICE, 0, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE, o->cfg_size, 16);
}

static u16 pci_reg16(const struct virtio_pci *vp, unsigned reg)
{
	return (u16)pci_config_read(&vp->pci, (u8)reg, 2);
}

static bool msix_enabled(const struct virtio_pci *vp)
{
	return pci_reg16(vp, CAP_MSIX + 2) & MSIX_CTRL_ENABLE;
}

/* INTx# follows the ISR, unless the command register disables it. Lock held. */
static void update_intx(struct virtio_pci *vp)
{
	bool level = vp->isr && !msix_enabled(vp) &&
		     !(pci_reg16(vp, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);

	if (level != vp->intx_level) {
		vp->intx_level = level;
		pci_intx_set(vp->intx, vp->devfn, VPCI_INTX_PIN, level);
	}
}

/* The BAR's MMIO range follows the BAR and memory decoding. Lock held. */
static void remap(struct virtio_pci *vp)
{
	u64 want = 0, base = pci_config_bar(&vp->pci, VPCI_BAR);

	if ((pci_reg16(vp, PCI_COMMAND) & PCI_COMMAND_MEMORY) && base)
		want = base;
	if (want == vp->bar_mapped)
		return;
	if (vp->bar_mapped)
		bus_unregister(&vp->vm->mmio, vp->bar_mapped, vp);
	vp->bar_mapped = 0;
	/* A BAR put over another device (or past the address space) decodes
	 * nothing: the guest's mistake, not ours. */
	if (want && !bus_register(&vp->vm->mmio, want, VPCI_BAR_SIZE, vp->name,
				  &virtio_pci_bar_ops, vp))
		vp->bar_mapped = want;
}

/*
 * Sends vector, or marks it pending when masked (PCI 3.0, 6.8.3.4); without
 * MSI-X sets isr_bit. Lock held; *msg filled and true when an MSI is to be
 * sent, which the caller does after unlocking.
 */
static bool raise_locked(struct virtio_pci *vp, u16 vector, u8 isr_bit, struct apic_msg *msg)
{
	if (!msix_enabled(vp)) {
		vp->isr |= isr_bit;
		update_intx(vp);
		return false;
	}
	if (vector >= VIRTIO_MSIX_VECTORS)
		return false; /* VIRTIO_MSI_NO_VECTOR: the driver wants none */
	if ((pci_reg16(vp, CAP_MSIX + 2) & MSIX_CTRL_MASKALL) ||
	    (vp->msix[vector].ctrl & MSIX_ENTRY_MASKED)) {
		vp->msix_pba |= 1u << vector;
		return false;
	}
	return apic_msi_to_msg((u64)vp->msix[vector].addr_hi << 32 | vp->msix[vector].addr_lo,
			       vp->msix[vector].data, msg) == 0;
}

static void send(struct virtio_pci *vp, bool go, const struct apic_msg *msg)
{
	if (go && vp->apic_bus)
		apic_bus_deliver(vp->apic_bus, msg);
}

void virtio_pci_queue_interrupt(struct virtio_pci *vp, struct virtq *vq)
{
	struct apic_msg msg;
	bool go;

	spin_lock(&vp->lock);
	go = raise_locked(vp, vq->msix_vector, ISR_QUEUE, &msg);
	spin_unlock(&vp->lock);
	send(vp, go, &msg);
}

void virtio_pci_config_interrupt(struct virtio_pci *vp)
{
	struct apic_msg msg;
	bool go;

	spin_lock(&vp->lock);
	go = raise_locked(vp, vp->msix_config, ISR_CONFIG, &msg);
	spin_unlock(&vp->lock);
	send(vp, go, &msg);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	bool tell;

	spin_lock(&vp->lock);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	tell = vp->status & VIRTIO_STATUS_DRIVER_OK; /* 2.1.2 */
	spin_unlock(&vp->lock);
	if (tell)
		virtio_pci_config_interrupt(vp);
}

/* A pending vector whose mask was lifted is sent now (6.8.3.4). */
static void flush_pending(struct virtio_pci *vp)
{
	for (u16 v = 0; v < VIRTIO_MSIX_VECTORS; v++) {
		struct apic_msg msg;
		bool go = false;

		spin_lock(&vp->lock);
		if ((vp->msix_pba & (1u << v)) && msix_enabled(vp) &&
		    !(pci_reg16(vp, CAP_MSIX + 2) & MSIX_CTRL_MASKALL) &&
		    !(vp->msix[v].ctrl & MSIX_ENTRY_MASKED)) {
			vp->msix_pba &= ~(1u << v);
			go = raise_locked(vp, v, 0, &msg);
		}
		spin_unlock(&vp->lock);
		send(vp, go, &msg);
	}
}

/* ---- configuration space ---- */

static u32 cfg_read(void *dev, u8 reg, u8 size)
{
	struct virtio_pci *vp = dev;
	u32 v;

	spin_lock(&vp->lock);
	v = pci_config_read(&vp->pci, reg, size);
	spin_unlock(&vp->lock);
	return v;
}

static void cfg_write(void *dev, u8 reg, u8 size, u32 val)
{
	struct virtio_pci *vp = dev;

	spin_lock(&vp->lock);
	pci_config_write(&vp->pci, reg, size, val);
	remap(vp);
	update_intx(vp); /* INTx disable, or MSI-X turned on or off */
	spin_unlock(&vp->lock);
	if (reg + size > CAP_MSIX + 2 && reg < CAP_MSIX + 4)
		flush_pending(vp);
}

const struct pci_dev_ops virtio_pci_cfg_ops = {
	.read = cfg_read,
	.write = cfg_write,
};

/* ---- the common configuration (4.1.4.3) ---- */

static u64 device_features(const struct virtio_pci *vp)
{
	return vp->ops->features | BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_INDIRECT_DESC) |
	       BIT(VIRTIO_F_EVENT_IDX);
}

static struct virtq *selected_vq(struct virtio_pci *vp)
{
	return vp->queue_select < vp->ops->nr_queues ? &vp->vq[vp->queue_select] : NULL;
}

/* Reads the 64-bit fields' halves and the rest; 0 for what is not there. */
static u64 common_read(struct virtio_pci *vp, u64 off)
{
	struct virtq *q = selected_vq(vp);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vp->dfselect < 2 ? (u32)(device_features(vp) >> (32 * vp->dfselect)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect < 2 ? (u32)(vp->driver_features >> (32 * vp->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return vp->msix_config;
	case VIRTIO_PCI_COMMON_NUMQ: return vp->ops->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS: return vp->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return vp->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return vp->queue_select;
	}
	if (!q)
		return 0; /* 4.1.4.3: queue_size 0 for a queue that is not there */
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF: return vp->queue_select;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return (u32)q->desc;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return q->desc >> 32;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return (u32)q->avail;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return q->avail >> 32;
	case VIRTIO_PCI_COMMON_Q_USEDLO: return (u32)q->used;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return q->used >> 32;
	}
	return 0;
}

static void set_lo(u64 *f, u32 v) { *f = (*f & ~0xffffffffULL) | v; }
static void set_hi(u64 *f, u32 v) { *f = (*f & 0xffffffffULL) | (u64)v << 32; }

/* Forgets every request and queue (2.1.2, 4.1.4.3.2: writing 0 to status). */
static void device_reset(struct virtio_pci *vp)
{
	vp->ops->reset(vp->dev);
	spin_lock(&vp->lock);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *q = &vp->vq[i];

		spin_lock(&q->avail_lock);
		spin_lock(&q->used_lock);
		vq_reset(q);
		q->size = i < vp->ops->nr_queues ? vp->ops->queue_size : 0; /* the maximum again */
		spin_unlock(&q->used_lock);
		spin_unlock(&q->avail_lock);
	}
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->status = 0;
	vp->queue_select = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->isr = 0;
	vp->msix_pba = 0;
	update_intx(vp);
	spin_unlock(&vp->lock);
}

/* A status write other than 0 (3.1.1): FEATURES_OK only for features the
 * device offers, VERSION_1 among them (a modern device, 6.1). */
static void status_write(struct virtio_pci *vp, u8 v)
{
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vp->driver_features & ~device_features(vp)) ||
	     !(vp->driver_features & BIT(VIRTIO_F_VERSION_1))))
		v &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	/* NEEDS_RESET is the device's to set; only a reset clears it. */
	vp->status = v | (vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Enabling a queue checks its rings (2.7, 4.1.4.3.2); a bad one breaks it. */
static void queue_enable(struct virtio_pci *vp, struct virtq *q)
{
	q->event_idx = vp->driver_features & BIT(VIRTIO_F_EVENT_IDX);
	q->indirect = vp->driver_features & BIT(VIRTIO_F_INDIRECT_DESC);
	q->last_avail = q->used_idx = 0;
	q->signalled_valid = false;
	q->enabled = true;
}

/* Returns the queue to notify after unlocking, if any. */
static struct virtq *common_write(struct virtio_pci *vp, u64 off, u32 v, bool *reset,
				  struct virtq **bad)
{
	struct virtq *q = selected_vq(vp);
	/* 4.1.4.3.2: a queue's fields are not written while it is enabled. */
	bool q_ok = q && !q->enabled;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: vp->dfselect = v; return NULL;
	case VIRTIO_PCI_COMMON_GFSELECT: vp->gfselect = v; return NULL;
	case VIRTIO_PCI_COMMON_GF:
		/* Features are fixed once FEATURES_OK is set (3.1.1). */
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			if (vp->gfselect)
				set_hi(&vp->driver_features, v);
			else
				set_lo(&vp->driver_features, v);
		}
		return NULL;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->msix_config = v < VIRTIO_MSIX_VECTORS ? (u16)v : VIRTIO_MSI_NO_VECTOR;
		return NULL;
	case VIRTIO_PCI_COMMON_STATUS:
		if (!(u8)v)
			*reset = true;
		else
			status_write(vp, (u8)v);
		return NULL;
	case VIRTIO_PCI_COMMON_Q_SELECT: vp->queue_select = (u16)v; return NULL;
	}
	if (!q_ok) {
		/* The vector may be read back as NO_VECTOR when refused (4.1.5.1.2). */
		return NULL;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		/* Any power of two up to what the device offers (2.7). */
		if (v && v <= vp->ops->queue_size && !(v & (v - 1)))
			q->size = (u16)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		q->msix_vector = v < VIRTIO_MSIX_VECTORS ? (u16)v : VIRTIO_MSI_NO_VECTOR;
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1) {
			queue_enable(vp, q);
			if (!vq_config_ok(q))
				*bad = q;
		}
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: set_lo(&q->desc, v); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: set_hi(&q->desc, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: set_lo(&q->avail, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: set_hi(&q->avail, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: set_lo(&q->used, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: set_hi(&q->used, v); break;
	}
	return NULL;
}

/* ---- the BAR ---- */

static bool is_wide(u64 off)
{
	return off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
	       off == VIRTIO_PCI_COMMON_Q_USEDLO;
}

static u64 bar_read_locked(struct virtio_pci *vp, u64 off, u8 size)
{
	if (off < VIRTIO_PCI_COMMON_SIZE) {
		/* A 64-bit field may be read whole, as two dwords, or a dword at a time. */
		if (size == 8 && is_wide(off))
			return common_read(vp, off) | common_read(vp, off + 4) << 32;
		return common_read(vp, off) & (size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
	}
	if (off == VPCI_ISR) {
		u8 v = vp->isr; /* 4.1.4.5.1: reading clears it and the interrupt */

		vp->isr = 0;
		update_intx(vp);
		return v;
	}
	if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + 16 * VIRTIO_MSIX_VECTORS &&
	    size == 4) {
		unsigned n = (unsigned)(off - VPCI_MSIX_TABLE) / 16;
		const u32 *e = &vp->msix[n].addr_lo;

		return e[(off & 15) / 4];
	}
	if (off == VPCI_MSIX_PBA)
		return vp->msix_pba;
	return 0;
}

static int bar_read(void *dev, u64 off, u8 size, u64 *val)
{
	struct virtio_pci *vp = dev;

	if (off >= VPCI_DEVICE && off < VPCI_DEVICE + vp->ops->cfg_size) {
		u32 o = (u32)(off - VPCI_DEVICE);

		*val = size <= 4 && o + size <= vp->ops->cfg_size ?
			       vp->ops->cfg_read(vp->dev, o, size) : 0;
		return 0;
	}
	spin_lock(&vp->lock);
	*val = bar_read_locked(vp, off, size);
	spin_unlock(&vp->lock);
	return 0;
}

static int bar_write(void *dev, u64 off, u8 size, u64 val)
{
	struct virtio_pci *vp = dev;
	struct virtq *bad = NULL;
	bool reset = false, unmasked = false;

	if (off >= VPCI_NOTIFY && off < VPCI_NOTIFY + VPCI_NOTIFY_MULT * (u64)vp->ops->nr_queues) {
		/* 4.1.4.4: the queue is the one whose notify address this is. */
		struct virtq *q = &vp->vq[(off - VPCI_NOTIFY) / VPCI_NOTIFY_MULT];

		if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && q->enabled && !q->broken)
			vp->ops->notify(vp->dev, q);
		return 0;
	}
	spin_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_SIZE) {
		common_write(vp, off, (u32)val, &reset, &bad);
		if (size == 8 && is_wide(off))
			common_write(vp, off + 4, (u32)(val >> 32), &reset, &bad);
	} else if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + 16 * VIRTIO_MSIX_VECTORS &&
		   size == 4) {
		unsigned n = (unsigned)(off - VPCI_MSIX_TABLE) / 16;
		u32 *e = &vp->msix[n].addr_lo;

		e[(off & 15) / 4] = (u32)val;
		unmasked = (off & 15) == 12 && !(val & MSIX_ENTRY_MASKED);
	}
	spin_unlock(&vp->lock);
	if (reset)
		device_reset(vp);
	if (bad)
		vq_fail(bad, "rings misaligned or outside the VM's RAM");
	if (unmasked)
		flush_pending(vp);
	return 0;
}

const struct io_ops virtio_pci_bar_ops = {
	.read = bar_read,
	.write = bar_write,
};

/* ---- life ---- */

static void queue_failed(void *ctx, struct virtq *vq)
{
	virtio_pci_needs_reset(ctx);
}

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name,
				     const struct virtio_dev_ops *ops, void *dev)
{
	struct virtio_pci *vp = kzalloc(sizeof(*vp));

	if (!vp)
		return NULL;
	vp->vm = vm;
	vp->ops = ops;
	vp->dev = dev;
	vp->apic_bus = vm->apic_bus;
	vp->intx = &host->intx;
	vp->devfn = devfn;
	vp->bar_default = bar_base;
	strlcpy(vp->name, name, sizeof(vp->name));
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *q = &vp->vq[i];

		q->vm = vm;
		q->dev_name = vp->name;
		q->index = (u16)i;
		q->on_fail = queue_failed;
		q->fail_ctx = vp;
	}
	virtio_pci_reset(vp);
	if (!vp->bar_mapped || pci_host_add(host, devfn, &virtio_pci_cfg_ops, vp)) {
		if (vp->bar_mapped)
			bus_unregister(&vm->mmio, vp->bar_mapped, vp);
		kfree(vp);
		return NULL;
	}
	return vp;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (vp->bar_mapped)
		bus_unregister(&vp->vm->mmio, vp->bar_mapped, vp);
	kfree(vp);
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	device_reset(vp);
	spin_lock(&vp->lock);
	vpci_config_init(vp);
	/* Firmware's work: memory decoding on at the BAR it placed, and in the
	 * Interrupt Line register the I/O APIC input INTA# of this slot is
	 * wired to (the _PRT's GSI; only software reads the register). */
	pci_config_put(&vp->pci, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	pci_config_put(&vp->pci, PCI_INTERRUPT_LINE, 1, (u32)pci_intx_gsi(vp->devfn >> 3, VPCI_INTX_PIN));
	for (unsigned i = 0; i < VIRTIO_MSIX_VECTORS; i++)
		vp->msix[i] = (typeof(vp->msix[i])){ .ctrl = MSIX_ENTRY_MASKED };
	vp->msix_pba = 0;
	remap(vp);
	update_intx(vp);
	spin_unlock(&vp->lock);
}
