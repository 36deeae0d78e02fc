/*
 * The hypervisor's accesses to guest RAM: bounds checked, chunk by chunk,
 * and every write marked in the dirty bitmap (include/hv/gmem.h).
 */
#include "hv/gmem.h"
#include "hv/vm.h"
#include "lib/string.h"

static bool in_ram(const struct gmem *g, u64 gpa, u64 len)
{
	return gmem_in_ram(g, gpa, len);
}

static u8 *hva_of(const struct gmem *g, u64 gpa)
{
	return (u8 *)(uintptr_t)(g->chunks[gpa >> GMEM_CHUNK_SHIFT] + (gpa & (GMEM_CHUNK - 1)));
}

/*
 * One naturally aligned access of 2, 4 or 8 bytes is one load or store:
 * a driver on another CPU writes a ring's 16-bit index while a device
 * reads it, and the byte copy of memcpy could see half of each (the low
 * byte before a carry, the high byte after: an index 256 ahead). virtio
 * 1.2, 2.7.6 and 2.7.8 publish the avail and used indices with such
 * stores.
 */
static bool whole(u64 gpa, u64 len)
{
	return (len == 2 || len == 4 || len == 8) && !(gpa & (len - 1));
}

/* The guest's side is the aligned one; the caller's buffer may not be. */
static void load_whole(void *dst, const void *guest, u64 len)
{
	u64 v = len == 2 ? __atomic_load_n((const u16 *)guest, __ATOMIC_RELAXED) :
		len == 4 ? __atomic_load_n((const u32 *)guest, __ATOMIC_RELAXED) :
			   __atomic_load_n((const u64 *)guest, __ATOMIC_RELAXED);

	memcpy(dst, &v, len); /* x86 is little-endian: the low len bytes */
}

static void store_whole(void *guest, const void *src, u64 len)
{
	u64 v = 0;

	memcpy(&v, src, len);
	if (len == 2)
		__atomic_store_n((u16 *)guest, (u16)v, __ATOMIC_RELAXED);
	else if (len == 4)
		__atomic_store_n((u32 *)guest, (u32)v, __ATOMIC_RELAXED);
	else
		__atomic_store_n((u64 *)guest, v, __ATOMIC_RELAXED);
}

/* Bytes from gpa to the end of its chunk, at most len. */
static u64 piece(u64 gpa, u64 len)
{
	return MIN(len, GMEM_CHUNK - (gpa & (GMEM_CHUNK - 1)));
}

u64 gmem_size(const struct vm *vm)
{
	const struct gmem *g = &vm->gmem;

	return g->low_end + (g->size - g->high_start);
}

u64 gmem_end(const struct vm *vm)
{
	return vm->gmem.size;
}

void gmem_mark_dirty(struct vm *vm, u64 gpa, u64 len)
{
	struct gmem *g = &vm->gmem;

	if (!len || gpa >= g->size)
		return;
	len = MIN(len, g->size - gpa);
	/* The hole's bits stay 0: a harvest never sends what is not RAM. */
	for (u64 pfn = gpa / PAGE_SIZE; pfn <= (gpa + len - 1) / PAGE_SIZE; pfn++)
		if (gmem_in_ram(g, pfn * PAGE_SIZE, PAGE_SIZE))
			__atomic_fetch_or(&g->dirty[pfn / 64], 1ULL << (pfn % 64),
					  __ATOMIC_RELAXED);
}

int gmem_read(struct vm *vm, u64 gpa, void *dst, u64 len)
{
	const struct gmem *g = &vm->gmem;
	u8 *d = dst;

	if (!in_ram(g, gpa, len))
		return -EFAULT;
	if (whole(gpa, len)) {
		load_whole(d, hva_of(g, gpa), len);
		return 0;
	}
	while (len) {
		u64 n = piece(gpa, len);

		memcpy(d, hva_of(g, gpa), n);
		d += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int gmem_write(struct vm *vm, u64 gpa, const void *src, u64 len)
{
	const struct gmem *g = &vm->gmem;
	const u8 *s = src;

	u64 at = gpa, total = len;

	if (!in_ram(g, gpa, len))
		return -EFAULT;
	if (whole(gpa, len)) {
		store_whole(hva_of(g, gpa), s, len);
		gmem_mark_dirty(vm, at, total);
		return 0;
	}
	while (len) {
		u64 n = piece(gpa, len);

		memcpy(hva_of(g, gpa), s, n);
		s += n;
		gpa += n;
		len -= n;
	}
	/* After the copy: a harvest that sees the mark sees the data. */
	gmem_mark_dirty(vm, at, total);
	return 0;
}

int gmem_fill(struct vm *vm, u64 gpa, u8 c, u64 len)
{
	const struct gmem *g = &vm->gmem;

	u64 at = gpa, total = len;

	if (!in_ram(g, gpa, len))
		return -EFAULT;
	while (len) {
		u64 n = piece(gpa, len);

		memset(hva_of(g, gpa), c, n);
		gpa += n;
		len -= n;
	}
	gmem_mark_dirty(vm, at, total);
	return 0;
}

void *gmem_map(struct vm *vm, u64 gpa, u64 len, bool write)
{
	void *p = (void *)(uintptr_t)gmem_peek(&vm->gmem, gpa, len);

	if (p && write)
		gmem_mark_dirty(vm, gpa, len ? len : 1);
	return p;
}
