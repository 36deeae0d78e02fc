/*
 * A VM's guest-physical space: its RAM, held in 2 MiB chunks of host memory,
 * the nested page tables that map it (NPT or EPT, arch/x86/nested_pt.h), and
 * the bitmap of pages written since the last harvest.
 *
 * The hypervisor reaches guest RAM only through the accessors below: they
 * check bounds and mark what they write in the dirty bitmap. The back ends
 * reach the tables through vm->gmem.pt (the root is gmem's).
 *
 * Guest RAM is gmem_size() bytes: [0, low_end) and [high_start, size), as
 * include/hv/gmem_layout.h lays it out (the PCI hole between, when RAM goes
 * past 3 GiB). Nothing but RAM is in the chunks; the hole's chunks are 0.
 *
 * The table changes and dirty-log calls take gmem.lock and may wait for
 * other CPUs (gmem_tlb_shootdown): call them from an exit handler or the
 * monitor, never from an interrupt handler. The accessors take no lock.
 * Design notes: docs/guest-memory.md.
 */
#ifndef HV_GMEM_H
#define HV_GMEM_H

#include "hv/types.h"
#include "hv/spinlock.h"
#include "hv/gmem_layout.h"
#include "arch/x86/nested_pt.h"

struct vm;

#define GMEM_CHUNK SZ_2M
#define GMEM_CHUNK_SHIFT 21

struct gmem {
	u64 size;          /* one past RAM's highest byte, a multiple of 2 MiB */
	/*
	 * RAM is [0, low_end) and [high_start, size); without a hole both are
	 * size (unit tests' fakes leave both 0: RAM is [0, size) then too).
	 */
	u64 low_end, high_start;
	u64 nr_chunks;     /* size / 2 MiB, the hole's included */
	u64 *chunks;       /* host-physical address of each 2 MiB chunk, 0 in the hole */
	u64 chunks_pages;  /* pages holding chunks[] */

	spinlock_t lock;   /* guards pt's entries and logging */
	struct nested_pt pt;
	/*
	 * Bumped (after the tables changed) whenever a mapping is removed or
	 * restricted; a vCPU whose tlb_gen differs flushes its guest TLB
	 * before it enters the guest (core/vcpu_run.c).
	 */
	volatile u64 tlb_gen;

	u64 *dirty;        /* 1 bit per 4 KiB page, set atomically */
	u64 dirty_pages;   /* pages holding dirty[] */
	bool logging;      /* guest writes are trapped and recorded */
	/*
	 * The CPU sets the dirty bit of a leaf it writes through (EPT A/D,
	 * SDM vol. 3, 29.3.5; set by the back end's vm_init): then logging
	 * reads and clears those bits instead of write-protecting RAM, and
	 * guest writes do not exit.
	 */
	bool hw_dirty;
};

/*
 * Allocates mem bytes of guest RAM (a multiple of 2 MiB) in 2 MiB chunks,
 * laid out by gmem_layout_of(mem),
 * the dirty bitmap and nested tables in the back end's format (vendor->
 * pt_format) mapping all of it writable. -EINVAL, -ENOMEM (nothing stays
 * allocated then).
 */
int gmem_init(struct vm *vm, u64 mem);
/* Frees every chunk, table page and the bitmap; the VM must not run. */
void gmem_destroy(struct vm *vm);
/* Bytes of RAM (the configuration's mem), the hole not counted. */
u64 gmem_size(const struct vm *vm);
/* One past the highest guest-physical byte of RAM: what page-indexed
 * bitmaps (dirty log, harvests, snapshots' page maps) cover. */
u64 gmem_end(const struct vm *vm);

/* Whether [gpa, gpa+len) lies wholly in RAM (len 0: gpa itself need not). */
static inline bool gmem_in_ram(const struct gmem *g, u64 gpa, u64 len)
{
	u64 end = gpa + len;

	if (end < gpa)
		return false;
	return end <= g->low_end || (gpa >= g->high_start && end <= g->size);
}

/* Whether any byte of [gpa, gpa+len) lies in RAM (len > 0). */
static inline bool gmem_touches_ram(const struct gmem *g, u64 gpa, u64 len)
{
	u64 end = gpa + len;

	if (end < gpa)
		end = ~0ULL;
	return gpa < g->low_end || (end > g->high_start && gpa < g->size);
}

/*
 * The tables (core/gmem.c). Ranges 4 KiB aligned. Removing or restricting
 * a mapping (unmap, protect read-only, split, merge) reaches every CPU
 * that runs the VM before these return (gmem_tlb_shootdown).
 */
int gmem_pt_map(struct vm *vm, u64 gpa, u64 hpa, u64 size);
int gmem_pt_unmap(struct vm *vm, u64 gpa, u64 size);
/* Maps device memory (a passed-through BAR) uncached, outside RAM. */
int gmem_pt_map_mmio(struct vm *vm, u64 gpa, u64 hpa, u64 size);
int gmem_pt_protect(struct vm *vm, u64 gpa, u64 size, bool writable);
int gmem_pt_split(struct vm *vm, u64 gpa);
int gmem_pt_merge(struct vm *vm, u64 gpa);

/*
 * The VM-wide TLB flush (core/gmem_flush.c): bumps tlb_gen, kicks every vCPU
 * in guest mode on another CPU and waits until each has left it, so none
 * uses a translation from before the change when this returns.
 */
void gmem_tlb_shootdown(struct vm *vm);

/*
 * Accessors (core/gmem_access.c). Ranges may cross chunks; -EFAULT when any
 * byte lies outside RAM (nothing is copied then). Writes mark the dirty
 * bitmap.
 */
int gmem_read(struct vm *vm, u64 gpa, void *dst, u64 len);
int gmem_write(struct vm *vm, u64 gpa, const void *src, u64 len);
/* Fills [gpa, gpa+len) with byte c, as gmem_write. */
int gmem_fill(struct vm *vm, u64 gpa, u8 c, u64 len);
/*
 * A host pointer to [gpa, gpa+len) for the few places that need one, NULL
 * unless the range lies within one chunk (len 0 counts as 1). write marks
 * the range dirty now: write through the pointer before the next harvest.
 */
void *gmem_map(struct vm *vm, u64 gpa, u64 len, bool write);

/* Marks [gpa, gpa+len) written (within RAM; the rest is ignored). */
void gmem_mark_dirty(struct vm *vm, u64 gpa, u64 len);

/*
 * Read-only pointer for the emulator's hot paths (page walk, instruction
 * fetch): within one chunk, else NULL. Inline: one compare and one load.
 */
static inline const void *gmem_peek(const struct gmem *g, u64 gpa, u64 len)
{
	u64 last = gpa + (len ? len - 1 : 0);

	/* The hole's ends are chunk boundaries: gpa's side tells last's too. */
	if (likely(last < g->size && last >= gpa &&
		   (gpa >> GMEM_CHUNK_SHIFT) == (last >> GMEM_CHUNK_SHIFT) &&
		   (gpa < g->low_end || gpa >= g->high_start)))
		return (const void *)(uintptr_t)(g->chunks[gpa >> GMEM_CHUNK_SHIFT] +
						 (gpa & (GMEM_CHUNK - 1)));
	return NULL;
}

/*
 * Dirty logging (core/gmem_dirty.c). start write-protects all RAM at 4 KiB;
 * a guest write then exits, and gmem_dirty_fault marks the page and makes it
 * writable again. harvest copies the union of guest and hypervisor writes
 * into bitmap (nbits bits, bit n = guest-physical page n; the hole's
 * bits stay 0) and clears it, write-protecting
 * the harvested pages again while logging; returns the number of pages
 * marked. stop merges back to 2 MiB pages. count: pages marked now.
 */
int gmem_dirty_log_start(struct vm *vm);
u64 gmem_dirty_harvest(struct vm *vm, u64 *bitmap, u64 nbits);
void gmem_dirty_log_stop(struct vm *vm);
u64 gmem_dirty_count(const struct vm *vm);
/* A guest write to gpa faulted in the nested tables: true when dirty
 * logging explains it (the page is marked and writable again: resume). */
bool gmem_dirty_fault(struct vm *vm, u64 gpa);

#endif
