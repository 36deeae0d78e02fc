/*
 * A ring of bytes with one producer and one consumer that need no lock
 * between them: the producer only moves tail, the consumer only moves head,
 * each publishing with a release store. Console input uses it: CPU 0's tick
 * produces, a vCPU reading its UART (on any CPU) or the monitor consumes.
 * Builds on the host too (GCC atomics only).
 */
#ifndef LIB_BYTEQ_H
#define LIB_BYTEQ_H

#include "hv/types.h"

struct byteq {
	u8 *buf;
	u32 size;       /* a power of two */
	u32 head, tail; /* free-running: tail - head bytes are queued */
};

static inline void byteq_init(struct byteq *q, u8 *buf, u32 size)
{
	q->buf = buf;
	q->size = size;
	q->head = q->tail = 0;
}

static inline u32 byteq_count(const struct byteq *q)
{
	return __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
}

/* Producer: false when the ring is full (the byte is not queued). */
static inline bool byteq_push(struct byteq *q, u8 byte)
{
	u32 tail = q->tail;

	if (tail - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == q->size)
		return false;
	q->buf[tail & (q->size - 1)] = byte;
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer: the oldest byte, or -1 when empty. */
static inline int byteq_pop(struct byteq *q)
{
	u32 head = q->head;
	u8 byte;

	if (head == __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE))
		return -1;
	byte = q->buf[head & (q->size - 1)];
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
	return byte;
}

#endif
