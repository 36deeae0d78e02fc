/*
 * libFuzzer target: the shadow MMU (arch/x86/mmu/) on random guest page
 * tables. Whatever the guest's tables hold, no shadow leaf may point
 * outside the VM's RAM and every shadow table must come from the vCPU's
 * pool (tests/unit/shadow_check.h walks the whole tree after each step);
 * ASan watches the guest walk's reads and its A/D writes.
 *
 * Input: a mode byte (CR0.PG/PE/WP, CR4.PAE/PSE/SMEP, EFER.LMA/NXE), a
 * flag byte (bit 0: fold every 8-byte word of guest memory so its address
 * lies in RAM, which makes the tables link up; bit 1: the dirty log keeps
 * odd pages read-only; bit 2: RAM has a hole, its second 2 MiB chunk, as a VM
 * of more than 3 GiB has the PCI hole), two bytes of CR3's page, a step count, steps of
 * 9 bytes (an op byte: #PF error code bits, INVLPG, a flush, a CR3 load or
 * a guest write of 8 bytes; then a linear address, or the write's value
 * and where), then guest RAM from guest-physical 0.
 *
 * Kept roots (arch/x86/mmu/shadow_roots.c): after every CR3 load each
 * present leaf must be one the guest's tables allow now, whatever the
 * writes before it changed: the walk must reach the same page with at
 * least the leaf's rights.
 *
 * TLB tags (arch/x86/mmu/shadow_tlb.c): a model CPU TLB per tag and CPU,
 * which at every entry caches every present leaf of the current root
 * under the root's tag, and drops what the entry's flush says. A
 * translation it still holds for the tag at an entry must be the shadow
 * leaf there now, or the guest could use one its tables took away. A
 * flush's op byte with bit 4 set moves the vCPU to the other of two CPUs
 * instead; tags run out after 5, so generations turn over.
 * Built and run by `make fuzz` (mk/fuzz_shadow.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hv/shadow.h"
#include "hv/vm.h"
#include "fake_gmem.h"
#include "shadow_check.h"

#define RAM_SIZE (8ULL << 20)
#define HOLE_START (2ULL << 20) /* with flag bit 2: [2 MiB, 4 MiB) is no RAM */
#define HOLE_END (4ULL << 20)

#define TAG_LIMIT 6
#define MODEL_MAX 512

/* What a CPU's TLB may hold under one tag: leaves by linear address. */
struct model_tlb {
	unsigned n;
	u64 la[MODEL_MAX], leaf[MODEL_MAX];
};

static struct model_tlb model[2][TAG_LIMIT];
static struct vm vm;
static u8 *ram;
static bool odd_read_only;
static size_t last_size;

bool shadow_gmem_writable(struct vm *v, u64 gpa, bool write)
{
	return !(odd_read_only && !write && ((gpa >> 12) & 1));
}

static u64 rd64(const uint8_t *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* Every present leaf of the table at level (la: the address of its first
 * entry) agrees with a walk of the guest's tables now. */
static void check_leaves(const struct shadow_mmu *s, const struct guest_ctx *c, const u64 *t,
			 int level, u64 la)
{
	unsigned n = s->levels == 3 && level == 2 ? 4 : 512;

	for (unsigned i = 0; i < n; i++) {
		u64 e = t[i], a = la + ((u64)i << (12 + 9 * level));
		struct shadow_gpte g;
		u32 err;
		u64 bad;

		if (!(e & 1))
			continue;
		if (level) {
			check_leaves(s, c, (const u64 *)(uintptr_t)(e & 0x000ffffffffff000ULL),
				     level - 1, a);
			continue;
		}
		if (s->levels == 4 && (a & BIT(47)))
			a |= 0xffff000000000000ULL;
		if (shadow_gwalk(&vm, c, a, e & BIT(2) ? GW_USER : 0, &g, &err, &bad))
			abort(); /* a kept leaf the guest's tables no longer allow */
		if (!gmem_in_ram(&vm.gmem, g.gpa & ~0xfffULL, 4096) ||
		    ((e & 0x000ffffffffff000ULL) != vm.gmem.chunks[g.gpa >> GMEM_CHUNK_SHIFT] +
							 (g.gpa & (GMEM_CHUNK - 1) & ~0xfffULL)))
			abort(); /* ... or that maps another page */
		if ((e & BIT(1)) && !(g.write && g.dirty) && ((c->cr0 & CR0_WP) || (e & BIT(2))))
			abort(); /* ... or writable where the guest's is not */
		if (!(e & BIT(63)) && g.nx && (c->efer & EFER_NXE))
			abort(); /* ... or executable */
	}
}

/* Every present leaf under table t at level (la: its first entry's) goes
 * into m, unless m holds la already. */
static void model_cache(struct model_tlb *m, const struct shadow_mmu *s, const u64 *t, int level,
			u64 la)
{
	unsigned n = s->levels == 3 && level == 2 ? 4 : 512;

	for (unsigned i = 0; i < n; i++) {
		u64 a = la + ((u64)i << (12 + 9 * level));
		unsigned k;

		if (!(t[i] & 1))
			continue;
		if (level) {
			model_cache(m, s, (const u64 *)(uintptr_t)(t[i] & 0x000ffffffffff000ULL),
				    level - 1, a);
			continue;
		}
		for (k = 0; k < m->n && m->la[k] != a; k++)
			;
		if (k == m->n && m->n < MODEL_MAX) {
			m->la[m->n] = a;
			m->leaf[m->n++] = t[i];
		}
	}
}

/* An entry on cpu: the flush shadow_tlb_tag asks for, then the check of
 * what the tag's model TLB still holds, then the CPU caches the root. */
static void model_enter(struct shadow_mmu *s, struct tlb_tag_pool *pool, int cpu)
{
	struct shadow_tlb_work w;
	struct model_tlb *m;
	u32 tag;

	shadow_tlb_tag(s, pool, cpu, TAG_LIMIT, &w);
	tag = w.tag;
	if (!tag || tag >= TAG_LIMIT)
		abort(); /* the host's tag, or one the CPU does not have */
	switch (w.flush) {
	case SHADOW_TLB_ALL:
		for (unsigned i = 0; i < TAG_LIMIT; i++)
			model[cpu][i].n = 0;
		break;
	case SHADOW_TLB_TAG:
		model[cpu][tag].n = 0;
		break;
	case SHADOW_TLB_PAGES: /* INVLPGA, INVVPID of one address: bits 47:12 */
		m = &model[cpu][tag];
		for (unsigned p = 0; p < w.pages; p++)
			for (unsigned k = 0; k < m->n;) {
				if ((m->la[k] ^ w.page[p]) & 0x0000fffffffff000ULL) {
					k++;
					continue;
				}
				m->n--;
				m->la[k] = m->la[m->n];
				m->leaf[k] = m->leaf[m->n];
			}
		break;
	case SHADOW_TLB_NONE:
		break;
	}
	m = &model[cpu][tag];
	for (unsigned k = 0; k < m->n; k++)
		if (shadow_leaf_of(s, m->la[k]) != m->leaf[k])
			abort(); /* a stale translation survives under the tag */
	model_cache(m, s, (const u64 *)(uintptr_t)s->root, s->levels - 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shadow_mmu sh;
	struct guest_ctx c = { 0 };
	struct shadow_fault f;
	struct shadow_hw hw;
	unsigned steps;
	u64 first_cr3;
	u8 mode, flags;
	struct tlb_tag_pool pools[2] = { { 0 }, { 0 } };
	int cpu = 0;

	if (size < 5)
		return 0;
	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		memset(ram, 0, RAM_SIZE);
		fake_gmem_attach(&vm, ram, RAM_SIZE);
	}
	/* Only the last input's bytes are nonzero: the walk writes A/D bits
	 * only into present entries, which all came from the input. */
	memset(ram, 0, last_size);
	mode = data[0];
	flags = data[1];
	c.cr3 = (u64)(data[2] | data[3] << 8) << 12 | (data[3] >> 4 & 0x1f) << 3;
	steps = data[4] & 31;
	data += 5;
	size -= 5;
	c.cr0 = (mode & 1 ? CR0_PG | CR0_PE : 0) | (mode & 2 ? CR0_PE : 0) | (mode & 4 ? CR0_WP : 0);
	c.cr4 = (mode & 8 ? CR4_PAE : 0) | (mode & 16 ? CR4_PSE : 0) | (mode & 32 ? CR4_SMEP : 0);
	c.efer = mode & 128 ? EFER_NXE : 0;
	if ((mode & 64) && (c.cr0 & CR0_PG)) { /* long mode: PAE is a must */
		c.cr4 |= CR4_PAE;
		c.efer |= EFER_LME | EFER_LMA;
	}
	odd_read_only = flags & 2;
	vm.gmem.low_end = flags & 4 ? HOLE_START : 0;
	vm.gmem.high_start = flags & 4 ? HOLE_END : 0;
	vm.gmem.chunks[1] = flags & 4 ? 0 : (u64)(uintptr_t)ram + GMEM_CHUNK;

	const uint8_t *ops = data;
	size_t nops = size / 9 < steps ? size / 9 : steps;

	data += nops * 9;
	size -= nops * 9;
	last_size = size < RAM_SIZE ? size : RAM_SIZE;
	memcpy(ram, data, last_size);
	if (flags & 1)
		for (u64 off = 0; off + 8 <= RAM_SIZE && off < size; off += 8) {
			u64 w = rd64(ram + off);

			w = (w & ~0x000ffffffffff000ULL) | (w & (RAM_SIZE - 1) & ~0xfffULL);
			memcpy(ram + off, &w, 8);
		}

	first_cr3 = c.cr3;
	if (shadow_init(&sh, check_table_alloc, check_table_free))
		abort();
	memset(model, 0, sizeof(model));
	shadow_hw_regs(&sh, &c, &hw);
	model_enter(&sh, &pools[cpu], cpu);
	for (size_t i = 0; i < nops; i++) {
		u8 op = ops[i * 9];
		u64 la = rd64(ops + i * 9 + 1);

		f.kind = SHADOW_FIXED;
		if ((op & 0xc0) == 0xc0) {
			/* The guest writes a table entry: bits 22:3 where, 63:32
			 * the low half (the high half from the address bits). */
			u64 off = la & (RAM_SIZE - 8);

			if (!(vm.gmem.low_end && off >= HOLE_START && off < HOLE_END))
				memcpy(ram + off, &(u64){ (la >> 32) | (la & 0x7fffffULL) << 32 }, 8);
		} else if (op & 0x80) {
			shadow_invlpg(&sh, la);
		} else if ((op & 0x40) && (op & 0x10)) {
			cpu ^= 1;
		} else if (op & 0x40) {
			shadow_flush(&sh);
		} else if (op & 0x20) {
			/* A CR3 load: one of 8 page tables, or back to the first. */
			c.cr3 = (la & 7) ? (la & (RAM_SIZE - 1) & ~0xfffULL) : first_cr3;
			shadow_load_cr3(&sh, &vm, &c);
			check_leaves(&sh, &c, (const u64 *)(uintptr_t)sh.root, sh.levels - 1, 0);
		} else {
			shadow_page_fault(&sh, &vm, &c, la, op & 0x1f, &f);
		}
		shadow_hw_regs(&sh, &c, &hw); /* as before the next entry */
		model_enter(&sh, &pools[cpu], cpu);
		if (shadow_check_tree(&sh, &vm) < 0)
			abort(); /* a leaf outside RAM, or a table not of the pool */
		if (f.kind == SHADOW_MMIO && gmem_in_ram(&vm.gmem, f.gpa & ~0xfffULL, 4096))
			abort(); /* RAM said to be MMIO */
	}
	shadow_destroy(&sh);
	return 0;
}
