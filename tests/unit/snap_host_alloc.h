/*
 * A malloc-backed struct snap_alloc for host tests: counts what is
 * outstanding (so a test can check everything was freed) and can be told to
 * fail after a number of allocations.
 */
#ifndef SNAP_HOST_ALLOC_H
#define SNAP_HOST_ALLOC_H

#include <stdlib.h>
#include "hv/snapshot.h"

struct host_alloc_stats {
	long live;        /* allocations not yet freed */
	long fail_after;  /* < 0: never fail; else fail once this many more succeeded */
	size_t largest;   /* the largest allocation asked for */
};

static void *host_alloc(void *ctx, size_t size)
{
	struct host_alloc_stats *st = ctx;

	if (st->fail_after == 0)
		return NULL;
	if (st->fail_after > 0)
		st->fail_after--;
	st->live++;
	if (size > st->largest)
		st->largest = size;
	return malloc(size);
}

static void host_free(void *ctx, void *p, size_t size)
{
	struct host_alloc_stats *st = ctx;

	st->live--;
	free(p);
}

static struct host_alloc_stats host_stats = { .fail_after = -1 };
static const struct snap_alloc host_snap_alloc = {
	.alloc = host_alloc,
	.free = host_free,
	.ctx = &host_stats,
};

#endif
