/*
 * virtio-blk (OASIS virtio 1.2, 5.2) on a block device of the registry
 * (include/hv/blockdev.h), over the PCI transport (devices/virtio_pci.h).
 *
 * One request queue of VBLK_QUEUE_SIZE. A request's header is read from the
 * driver's readable buffers, its data moved between the backend and the
 * guest's buffers themselves (host pointers from gmem_map, a buffer split
 * at each 2 MiB RAM chunk into blk_seg segments), its status byte written
 * last. Requests complete asynchronously, from blk_req.done on any CPU.
 *
 * Offered: VIRTIO_BLK_F_SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, RO (for a
 * read-only disk); GET_ID gives the backend's name. Not offered: DISCARD,
 * WRITE_ZEROES, MQ, geometry, topology.
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include "hv/blockdev.h"
#include "hv/types.h"

struct vm;
struct pci_host;
struct virtio_blk;

#define VIRTIO_ID_BLOCK 2
#define VBLK_QUEUE_SIZE 128

/* 5.2.6: request types and status values. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20

/* 5.2.3: feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

/*
 * A virtio-blk function at devfn of vm's PCI host on bd (read-only if ro or
 * bd is), its BAR at bar_base. NULL on failure, nothing left registered.
 */
struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name, struct blockdev *bd,
				     bool ro);
/* Waits for its requests in flight, then frees it. */
void virtio_blk_destroy(struct virtio_blk *b);
/* Power-on (a VM reset): requests in flight are forgotten. */
void virtio_blk_reset(struct virtio_blk *b);
/* Waits until no request is in flight (before a snapshot or destroy: the
 * VM is quiesced, so none starts meanwhile). */
void virtio_blk_drain(struct virtio_blk *b);

struct snap_writer;
struct snap_cursor;
int virtio_blk_save(const struct virtio_blk *b, struct snap_writer *w);
int virtio_blk_load(struct virtio_blk *b, struct snap_cursor *c);

/* What the device has answered since it was made (a reset keeps them;
 * a restored VM's start from zero). Requests count when they complete. */
struct virtio_blk_stats {
	u64 reads, read_bytes;   /* VIRTIO_BLK_T_IN answered OK */
	u64 writes, write_bytes; /* VIRTIO_BLK_T_OUT answered OK */
	u64 flushes;             /* VIRTIO_BLK_T_FLUSH answered OK */
	u64 errors;              /* answered IOERR: a backend error, a bad range or buffer, read-only */
	u64 unsupported;         /* answered UNSUPP: a request type not offered */
};
void virtio_blk_stats(const struct virtio_blk *b, struct virtio_blk_stats *out);

/* For tests: the transport under it. */
struct virtio_pci *virtio_blk_pci(struct virtio_blk *b);

#endif
