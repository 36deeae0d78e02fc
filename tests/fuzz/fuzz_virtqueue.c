/*
 * libFuzzer target: the split virtqueue (devices/virtqueue.c) over a small
 * guest RAM filled from the input, descriptor table, rings and indirect
 * tables alike. Each input configures one queue, pops every chain it can
 * (bounded), writes the chains' writable bytes and pushes them back. Checks,
 * beyond the sanitizers: the work is bounded (vq_pop returns within the
 * queue's size of chains), and no byte of RAM changes outside the used ring
 * and the writable buffers of the chains popped.
 *
 * Input: byte 0 bits 0-2 log2 of the queue size, bit 3 event index, bit 4
 * indirect; byte 1 the ring layout variant; the rest is RAM from 0.
 * Built and run by `make fuzz` (mk/fuzz_virtqueue.mk).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/fake_gmem.h"
#include "devices/virtqueue.h"

void kprintf(const char *fmt, ...)
{
}

#define RAM 0x10000
static u8 ram[RAM], before[RAM], allowed[RAM];
static struct vm vm;
static struct vq_chain chain;

static void allow(u64 gpa, u64 len)
{
	for (u64 i = 0; i < len && gpa + i < RAM; i++)
		allowed[gpa + i] = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq vq;
	static const u64 layouts[4][3] = {
		{ 0x0, 0x1000, 0x2000 },
		{ 0x100, 0x300, 0x400 },      /* rings close together */
		{ 0x0, 0x100, 0xfe00 },       /* used ring at the end of RAM */
		{ 0x10, 0x2, 0x4 },           /* overlapping: config_ok must cope */
	};
	u8 b0, b1;

	if (size < 2)
		return 0;
	b0 = data[0];
	b1 = data[1];
	if (!vm.gmem.size) {
		strcpy(vm.name, "fuzz");
		fake_gmem_attach(&vm, ram, RAM);
	}
	memset(ram, 0, RAM);
	memcpy(ram, data + 2, MIN(size - 2, (size_t)RAM));
	memcpy(before, ram, RAM);
	memset(allowed, 0, RAM);

	vq_reset(&vq);
	vq.vm = &vm;
	vq.dev_name = "virtio-fuzz";
	vq.size = (u16)(1u << (b0 & 7));
	vq.event_idx = b0 & 8;
	vq.indirect = b0 & 16;
	vq.desc = layouts[b1 & 3][0];
	vq.avail = layouts[b1 & 3][1];
	vq.used = layouts[b1 & 3][2];
	vq.last_avail = (u16)((b1 >> 2) * 0x1111);
	vq.used_idx = vq.last_avail;
	vq.enabled = true;
	if (!vq_config_ok(&vq))
		return 0;
	allow(vq.used, 6 + VIRTQ_USED_ELEM * (u64)vq.size);

	/* Each pop takes one chain from at most `size` ahead: more is a bug. */
	for (unsigned n = 0;; n++) {
		int r = vq_pop(&vq, &chain);

		if (r <= 0)
			break;
		if (n >= vq.size)
			abort();
		if (chain.nr > VQ_MAX_BUFS || chain.nr > chain.nr_all)
			abort();
		for (unsigned i = 0; i < chain.nr; i++) {
			const struct vq_buf *b = &chain.buf[i];

			if (b->addr > RAM || b->len > RAM - b->addr)
				abort();
			if (b->write)
				allow(b->addr, b->len);
		}
		{
			static u8 fill[RAM];
			u32 n_in = MIN(chain.in_len, (u32)RAM);

			memset(fill, 0xa5, n_in);
			vq_write_in(&vm, &chain, 0, fill, n_in);
			vq_read_out(&vm, &chain, 0, fill, MIN(chain.out_len, (u32)RAM));
		}
		vq_push(&vq, chain.head, chain.in_len);
	}
	for (size_t i = 0; i < RAM; i++)
		if (ram[i] != before[i] && !allowed[i])
			abort();
	return 0;
}
