/*
 * A VM's disks (disk= in its configuration, docs/config.md): one virtio-blk
 * PCI function each, at slots 4, 5, ... of bus 0, their BARs placed from the
 * bottom of the PCI MMIO window (docs/platform.md), as firmware would. A
 * VM without disks has no such device at all, so its exits pay nothing.
 */
#include "hv/vm_disks.h"
#include "core/blk_sync.h"
#include "hv/blockdev.h"
#include "hv/console.h"
#include "hv/device.h"
#include "hv/mm.h"
#include "hv/ramdisk.h"
#include "hv/snapshot.h"
#include "hv/vm.h"
#include "devices/pci_host.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "lib/string.h"

#define DISK_FIRST_SLOT 4
#define DISK_BAR_BASE 0xc0000000ULL /* the window's start (acpi_platform_defaults) */

struct vm_disks {
	struct vm *vm;
	unsigned n;
	struct virtio_blk *blk[VM_MAX_DISKS];
	struct blockdev *bd[VM_MAX_DISKS];
	bool ramdisk[VM_MAX_DISKS]; /* bd is this VM's own copy */
	bool writer[VM_MAX_DISKS];  /* this VM is bd->user */
};

static void disks_destroy(void *dev)
{
	struct vm_disks *d = dev;

	for (unsigned i = d->n; i-- > 0;) {
		virtio_blk_destroy(d->blk[i]);
		if (d->ramdisk[i])
			ramdisk_destroy(d->bd[i]);
		else if (d->writer[i])
			d->bd[i]->user = NULL;
	}
	kfree(d);
}

/* The backend of one disk= entry; NULL with a message. */
static struct blockdev *backend(struct vm *vm, struct vm_disks *d, const struct vm_disk *c)
{
	struct blockdev *bd;
	unsigned i = d->n;

	if (!strncmp(c->spec, "module:", 7)) {
		d->ramdisk[i] = true;
		return ramdisk_create(vm->bi, c->spec + 7, vm->name);
	}
	bd = blockdev_find(c->spec);
	if (!bd) {
		kprintf("utsuwa: vm '%s': disk '%s': no such partition (the machine's disks "
			"hold no GPT partition of that name)\n", vm->name, c->spec);
		return NULL;
	}
	if (!c->ro && !bd->read_only) {
		/* One writer per partition (issue 10); the configuration checks the
		 * VMs it starts, this the ones created later. */
		if (bd->user) {
			kprintf("utsuwa: vm '%s': disk '%s': written by vm '%s' already; two VMs "
				"may not write one disk (add ,ro)\n", vm->name, c->spec, bd->user);
			return NULL;
		}
		bd->user = vm->name;
		d->writer[i] = true;
	}
	return bd;
}

static void *disks_create(struct vm *vm)
{
	struct vm_disks *d = kzalloc(sizeof(*d));

	if (!d)
		return NULL;
	d->vm = vm;
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		const struct vm_disk *c = &vm->cfg.disks[i];
		char name[16] = "virtio-blk0";

		name[10] = (char)('0' + i);
		d->bd[i] = backend(vm, d, c);
		if (d->bd[i])
			d->blk[i] = virtio_blk_create(vm, vm->pci, PCI_DEVFN(DISK_FIRST_SLOT + i, 0),
						      DISK_BAR_BASE + (u64)i * VPCI_BAR_SIZE, name,
						      d->bd[i], c->ro);
		if (!d->blk[i]) {
			if (d->bd[i] && d->ramdisk[i])
				ramdisk_destroy(d->bd[i]);
			else if (d->bd[i] && d->writer[i])
				d->bd[i]->user = NULL;
			if (d->bd[i])
				kprintf("utsuwa: vm '%s': disk '%s': no room for its PCI device\n",
					vm->name, c->spec);
			disks_destroy(d);
			return NULL;
		}
		d->n++;
	}
	return d;
}

static void disks_reset(void *dev)
{
	struct vm_disks *d = dev;

	for (unsigned i = 0; i < d->n; i++)
		virtio_blk_reset(d->blk[i]);
}

/* docs/snapshot.md, "virtio-blk": a version, the count, each disk's
 * transport, and for a RAM disk its contents (the guest's page cache in the
 * saved memory expects them; a partition's are on the machine's disk). */
#define DISKS_SNAP_VERSION 2

static int disks_save(const void *dev, struct snap_writer *w)
{
	const struct vm_disks *d = dev;
	int err = 0;

	snap_put_u16(w, DISKS_SNAP_VERSION);
	snap_put_u8(w, (u8)d->n);
	for (unsigned i = 0; i < d->n && !err; i++) {
		err = virtio_blk_save(d->blk[i], w);
		snap_put_bool(w, d->ramdisk[i]);
		if (!err && d->ramdisk[i])
			ramdisk_save(d->bd[i], w);
	}
	return err ? err : snap_writer_error(w);
}

/* Each disk's payload is checked whole before it is used, but a later
 * disk's failure leaves the earlier ones loaded: the restore then fails and
 * frees the new VM, so nothing half-loaded runs. */
static int disks_load(void *dev, struct snap_cursor *c)
{
	struct vm_disks *d = dev;
	int err = 0;

	if (snap_get_u16(c) != DISKS_SNAP_VERSION || snap_get_u8(c) != d->n)
		return -EINVAL;
	for (unsigned i = 0; i < d->n && !err; i++) {
		err = virtio_blk_load(d->blk[i], c);
		if (!err && snap_get_bool(c) != d->ramdisk[i])
			err = -EINVAL; /* another kind of disk than the configuration's */
		if (!err && d->ramdisk[i])
			err = ramdisk_load(d->bd[i], c);
	}
	return err ? err : snap_cursor_done(c) ? 0 : -EINVAL;
}

/* Requests in flight complete into guest memory: done before it is saved. */
static void disks_quiesce(void *dev)
{
	struct vm_disks *d = dev;

	for (unsigned i = 0; i < d->n; i++)
		virtio_blk_drain(d->blk[i]);
}

static const struct device_ops disks_dev = {
	.save = disks_save,
	.load = disks_load,
	.name = "virtio-blk",
	.create = disks_create,
	.reset = disks_reset,
	.quiesce = disks_quiesce,
	.destroy = disks_destroy,
};

unsigned vm_disks_io(struct vm *vm, struct vm_disk_io *out, unsigned max)
{
	struct vm_device *dev = vm_device_find(vm, disks_dev.name);
	struct vm_disks *d = dev ? dev->dev : NULL;
	unsigned n = d ? MIN(d->n, max) : 0;

	for (unsigned i = 0; i < n; i++) {
		out[i].spec = vm->cfg.disks[i].spec;
		out[i].ro = vm->cfg.disks[i].ro;
		virtio_blk_stats(d->blk[i], &out[i].st);
	}
	return n;
}

int vm_disks_init(struct vm *vm)
{
	const struct device_ops *const table[] = { &disks_dev };

	if (!vm->cfg.nr_disks)
		return 0;
	return vm_devices_create(vm, table, 1);
}

int vm_disks_flush(struct vm *vm, const char **which)
{
	struct vm_device *dev = vm_device_find(vm, disks_dev.name);
	struct vm_disks *d = dev ? dev->dev : NULL;

	for (unsigned i = 0; d && i < d->n; i++) {
		int err;

		/* A RAM disk goes with the VM's state; a read-only disk holds
		 * nothing new. */
		if (d->ramdisk[i] || !d->writer[i])
			continue;
		err = blk_sync_io(d->bd[i], BLK_FLUSH, 0, NULL, 0);
		if (err) {
			*which = vm->cfg.disks[i].spec;
			return err;
		}
	}
	return 0;
}
