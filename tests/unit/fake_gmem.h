/*
 * Guest RAM for host tests of code that reaches it through include/hv/gmem.h:
 * a vm's gmem laid over a host buffer, cut into 2 MiB chunks (the buffer
 * need not be aligned, nor a whole number of chunks). No nested tables.
 */
#ifndef FAKE_GMEM_H
#define FAKE_GMEM_H

#include <stdlib.h>
#include <string.h>
#include "hv/vm.h"

#define FAKE_GMEM_MAX (4ULL << 30)

/* Lays vm->gmem over ram[0, size), size at most FAKE_GMEM_MAX; one fake RAM
 * per test program (the chunk array and bitmap are static, so a test may
 * zero its vm and attach again without leaking). */
static inline void fake_gmem_attach(struct vm *vm, void *ram, u64 size)
{
	static u64 chunks[FAKE_GMEM_MAX / GMEM_CHUNK];
	static u64 dirty[FAKE_GMEM_MAX / 4096 / 64];
	struct gmem *g = &vm->gmem;

	if (size > FAKE_GMEM_MAX)
		abort();
	memset(chunks, 0, sizeof(chunks));
	memset(dirty, 0, sizeof(dirty));
	g->size = size;
	g->nr_chunks = (size + GMEM_CHUNK - 1) / GMEM_CHUNK;
	g->chunks = chunks;
	g->dirty = dirty;
	for (u64 i = 0; i < g->nr_chunks; i++)
		chunks[i] = (u64)(uintptr_t)ram + i * GMEM_CHUNK;
}

/* A host pointer into the fake RAM, for checks (NULL outside it). The
 * buffer is contiguous, so unlike gmem_map the range may cross chunks. */
static inline void *fake_gmem_ptr(struct vm *vm, u64 gpa, u64 len)
{
	const struct gmem *g = &vm->gmem;

	if (gpa > g->size || len > g->size - gpa || !g->nr_chunks)
		return NULL;
	return (void *)(uintptr_t)(g->chunks[0] + gpa);
}

#endif
