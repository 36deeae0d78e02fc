/*
 * Waiting for block requests, for the hypervisor's own boot-time reads
 * (the GPT, core/gpt_scan.c) and the disk self-test (core/disktest.c):
 * requests are submitted and this CPU waits with interrupts on until every
 * done() has run. Not for VMs' I/O, which never waits.
 */
#ifndef CORE_BLK_SYNC_H
#define CORE_BLK_SYNC_H

#include "hv/blockdev.h"

/* Submits reqs[0..n) to bd together (they are in flight at once) and waits
 * for all of them, at most timeout_ms. 0, the first request's error, or
 * -ETIMEDOUT (the requests and their buffers must then never be reused:
 * the device may still write them). Each r->done and r->ctx are set here. */
int blk_wait_all(struct blockdev *bd, struct blk_req **reqs, unsigned n, u64 timeout_ms);

/* One request of nr_sectors at sector, buf contiguous host memory. */
int blk_sync_io(struct blockdev *bd, enum blk_op op, u64 sector, void *buf, u32 nr_sectors);

#endif
