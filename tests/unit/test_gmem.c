/*
 * The guest-physical space (core/gmem.c, gmem_access.c, gmem_dirty.c) over
 * fake page allocation that records every page handed out: its tables
 * against a model under random operations, the accessors, the dirty log.
 */
#include "unit.h"
#include <string.h>
#include "hv/gmem.h"
#include "hv/mm.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* ---- fakes: page allocation, the back end, the VM-wide flush ---- */

#define MAX_ALLOCS 8192 /* a VM of 4 GiB, logging: 2048 chunks and as many tables */
static struct { u64 pa, npages; } allocs[MAX_ALLOCS];
static u64 pages_out;      /* pages allocated and not freed */
static long alloc_budget = -1; /* allocations left before failing; -1: no limit */
/* RAM chunks are left as the host's malloc gives them (mmap'ed, untouched):
 * a VM of 4 GiB then costs the host only what the test writes. */
static bool lazy_chunks;

u64 page_alloc(u64 npages, u64 align)
{
	void *p;

	if (alloc_budget == 0)
		return 0;
	if (alloc_budget > 0)
		alloc_budget--;
	p = aligned_alloc(align, npages * PAGE_SIZE);
	if (!p)
		return 0;
	if (!lazy_chunks || npages != SZ_2M / PAGE_SIZE)
		memset(p, 0, npages * PAGE_SIZE);
	for (unsigned i = 0; i < MAX_ALLOCS; i++)
		if (!allocs[i].pa) {
			allocs[i].pa = (u64)(uintptr_t)p;
			allocs[i].npages = npages;
			pages_out += npages;
			return allocs[i].pa;
		}
	abort();
}

static int bad_frees;

void page_free(u64 pa, u64 npages)
{
	for (unsigned i = 0; i < MAX_ALLOCS; i++)
		if (allocs[i].pa == pa) {
			if (allocs[i].npages != npages)
				bad_frees++;
			pages_out -= allocs[i].npages;
			allocs[i].pa = 0;
			free((void *)(uintptr_t)pa);
			return;
		}
	bad_frees++; /* never allocated, or freed twice */
}

static struct vendor_ops fake_vendor = { .name = "fake", .pt_format = &pt_format_npt };
const struct vendor_ops *vendor = &fake_vendor;

static unsigned shootdowns;

void gmem_tlb_shootdown(struct vm *vm)
{
	vm->gmem.tlb_gen++;
	shootdowns++;
}

static struct vm vm;

#define MiB (1ULL << 20)
#define VM_SIZE (8 * MiB)
#define NPAGES (VM_SIZE / PAGE_SIZE)
#define NCHUNKS (VM_SIZE / SZ_2M)

static u64 hpa_of(u64 gpa)
{
	return vm.gmem.chunks[gpa / SZ_2M] + (gpa % SZ_2M);
}

/* ---- creation and destruction ---- */

TEST(init_maps_every_chunk_and_destroy_frees_all)
{
	u64 sz = 0;

	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	CHECK_EQ(gmem_size(&vm), VM_SIZE);
	CHECK_EQ(vm.gmem.nr_chunks, NCHUNKS);
	for (u64 i = 0; i < NCHUNKS; i++) {
		CHECK(IS_ALIGNED(vm.gmem.chunks[i], SZ_2M));
		CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, i * SZ_2M + 0x1234, &sz),
			 vm.gmem.chunks[i] + 0x1234);
		CHECK_EQ(sz, SZ_2M);
		CHECK(nested_pt_writable(&vm.gmem.pt, i * SZ_2M));
	}
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, VM_SIZE, NULL), ~0ULL);
	/* chunks, chunk array, bitmap, PML4 + PDPT + PD */
	CHECK_EQ(pages_out, NCHUNKS * 512 + 1 + 1 + 3);
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
	CHECK_EQ(gmem_size(&vm), 0);
}

TEST(init_refuses_bad_sizes_and_unwinds_on_failure)
{
	CHECK_EQ(gmem_init(&vm, 0), -EINVAL);
	CHECK_EQ(gmem_init(&vm, SZ_2M + PAGE_SIZE), -EINVAL);
	CHECK_EQ(pages_out, 0);
	/* Fail the n-th allocation for each n up to success: nothing leaks. */
	for (long n = 0; n < 20; n++) {
		alloc_budget = n;
		int err = gmem_init(&vm, VM_SIZE);

		alloc_budget = -1;
		if (!err) {
			CHECK_EQ(n, 2 + NCHUNKS + 3); /* arrays, chunks, 3 tables */
			gmem_destroy(&vm);
			break;
		}
		CHECK_EQ(err, -ENOMEM);
		CHECK_EQ(pages_out, 0);
	}
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
}

/* ---- the tables against a model ---- */

enum pde { PDE_ABSENT, PDE_LARGE, PDE_TABLE };
static struct {
	bool mapped[NPAGES], writable[NPAGES];
	u64 hpa[NPAGES];
	enum pde pde[NCHUNKS];
} m;

static u64 rng = 0x9e3779b97f4a7c15ULL;

static u64 rnd(u64 n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* What unmap/protect do to the PDE of each chunk [gpa, gpa+size) touches. */
static void model_edit(u64 gpa, u64 size, bool unmap, bool w)
{
	for (u64 c = gpa / SZ_2M; c <= (gpa + size - 1) / SZ_2M; c++) {
		bool whole = gpa <= c * SZ_2M && gpa + size >= (c + 1) * SZ_2M;

		if (m.pde[c] == PDE_LARGE && whole && unmap)
			m.pde[c] = PDE_ABSENT;
		else if (m.pde[c] == PDE_LARGE && !whole)
			m.pde[c] = PDE_TABLE;
	}
	for (u64 p = gpa / PAGE_SIZE; p < (gpa + size) / PAGE_SIZE; p++) {
		if (unmap)
			m.mapped[p] = false;
		else if (m.mapped[p])
			m.writable[p] = w;
	}
}

/* nested_pt_map with 4 KiB pages (size < 2 MiB), page by page. */
static int model_map(u64 gpa, u64 hpa, u64 size)
{
	for (u64 a = gpa; a < gpa + size; a += PAGE_SIZE, hpa += PAGE_SIZE) {
		u64 c = a / SZ_2M, p = a / PAGE_SIZE;

		if (m.pde[c] == PDE_LARGE || m.mapped[p])
			return -EEXIST;
		m.pde[c] = PDE_TABLE;
		m.mapped[p] = true;
		m.writable[p] = true;
		m.hpa[p] = hpa;
	}
	return 0;
}

static int model_merge(u64 c)
{
	u64 first = c * 512;

	if (m.pde[c] == PDE_ABSENT)
		return -ENOENT;
	if (m.pde[c] == PDE_LARGE)
		return 0;
	if (!m.mapped[first] || !IS_ALIGNED(m.hpa[first], SZ_2M))
		return -EBUSY;
	for (u64 i = 0; i < 512; i++)
		if (!m.mapped[first + i] || m.hpa[first + i] != m.hpa[first] + i * PAGE_SIZE ||
		    m.writable[first + i] != m.writable[first])
			return -EBUSY;
	m.pde[c] = PDE_LARGE;
	return 0;
}

static int model_check(void)
{
	int bad = 0;

	for (u64 p = 0; p < NPAGES; p++) {
		u64 sz = 0, got = nested_pt_lookup(&vm.gmem.pt, p * PAGE_SIZE + 8, &sz);

		if (!m.mapped[p]) {
			bad += got != ~0ULL;
			continue;
		}
		bad += got != m.hpa[p] + 8;
		bad += sz != (m.pde[p / 512] == PDE_LARGE ? SZ_2M : PAGE_SIZE);
		bad += nested_pt_writable(&vm.gmem.pt, p * PAGE_SIZE) != m.writable[p];
	}
	return bad;
}

static void random_ops(const struct pt_format *fmt, unsigned rounds)
{
	fake_vendor.pt_format = fmt;
	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	memset(&m, 0, sizeof(m));
	for (u64 p = 0; p < NPAGES; p++) {
		m.mapped[p] = m.writable[p] = true;
		m.hpa[p] = hpa_of(p * PAGE_SIZE);
	}
	for (u64 c = 0; c < NCHUNKS; c++)
		m.pde[c] = PDE_LARGE;

	for (unsigned i = 0; i < rounds; i++) {
		/* Ranges of pages to whole chunks, from anywhere. */
		u64 gpa = rnd(NPAGES) * PAGE_SIZE;
		u64 size = (1 + rnd(rnd(4) ? 16 : 1100)) * PAGE_SIZE;
		u64 c = rnd(NCHUNKS);
		unsigned op = (unsigned)rnd(6), before = shootdowns;
		int err, want;

		if (rnd(4) == 0)
			gpa = ALIGN_DOWN(gpa, SZ_2M), size = SZ_2M * (1 + rnd(2));
		size = MIN(size, VM_SIZE - gpa);
		switch (op) {
		case 0:
			err = gmem_pt_unmap(&vm, gpa, size);
			model_edit(gpa, size, true, false);
			CHECK_EQ(err, 0);
			CHECK_EQ(shootdowns, before + 1);
			break;
		case 1:
		case 2: {
			bool w = op == 2;

			err = gmem_pt_protect(&vm, gpa, size, w);
			model_edit(gpa, size, false, w);
			CHECK_EQ(err, 0);
			CHECK_EQ(shootdowns, before + !w); /* only restricting flushes */
			break;
		}
		case 3:
			err = gmem_pt_split(&vm, c * SZ_2M);
			want = m.pde[c] == PDE_ABSENT ? -ENOENT : 0;
			if (!want)
				m.pde[c] = PDE_TABLE;
			CHECK_EQ(err, want);
			break;
		case 4:
			err = gmem_pt_merge(&vm, c * SZ_2M);
			CHECK_EQ(err, model_merge(c));
			break;
		default: {
			/* Map back pages at their own chunk's address (sometimes a
			 * wrong one, so merging must refuse). */
			u64 n = (1 + rnd(600)) * PAGE_SIZE; /* MIN evaluates twice */

			n = MIN(n, VM_SIZE - gpa);
			u64 hpa = rnd(8) ? hpa_of(gpa) : hpa_of(gpa) + PAGE_SIZE;

			n = MIN(n, SZ_2M - PAGE_SIZE);
			err = gmem_pt_map(&vm, gpa, hpa, n);
			CHECK_EQ(err, model_map(gpa, hpa, n));
			break;
		}
		}
		int bad = model_check();

		if (bad) {
			CHECK_EQ(bad, 0);
			printf("  after round %u, op %u at %llx size %llx\n", i, op,
			       (unsigned long long)gpa, (unsigned long long)size);
			break;
		}
	}
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
	fake_vendor.pt_format = &pt_format_npt;
}

TEST(random_operations_match_the_model_npt)
{
	random_ops(&pt_format_npt, 3000);
}

TEST(random_operations_match_the_model_ept)
{
	random_ops(&pt_format_ept, 3000);
}

TEST(merge_ignores_accessed_and_dirty_bits)
{
	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	CHECK_EQ(gmem_pt_split(&vm, SZ_2M), 0);
	/* The CPU sets A and D in some leaves (APM vol. 2, 15.25.5). */
	u64 *pml4 = (u64 *)(uintptr_t)vm.gmem.pt.root;
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & PT_ADDR_MASK);
	u64 *pd = (u64 *)(uintptr_t)(pdpt[0] & PT_ADDR_MASK);
	u64 *pt = (u64 *)(uintptr_t)(pd[1] & PT_ADDR_MASK);
	pt[3] |= BIT(5) | BIT(6);
	pt[7] |= BIT(5);
	CHECK_EQ(gmem_pt_merge(&vm, SZ_2M), 0);
	CHECK_EQ(pd[1], vm.gmem.chunks[1] | 0x87 | BIT(5) | BIT(6));
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
}

/* ---- accessors ---- */

TEST(accessors_check_bounds_and_cross_chunks)
{
	u8 buf[64], back[64];

	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 1);
	/* Across the boundary of chunks 0 and 1, which are not adjacent in host memory. */
	CHECK_EQ(gmem_write(&vm, SZ_2M - 20, buf, sizeof(buf)), 0);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(SZ_2M - 20), buf[0]);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(SZ_2M), buf[20]);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(SZ_2M + 43), buf[63]);
	memset(back, 0, sizeof(back));
	CHECK_EQ(gmem_read(&vm, SZ_2M - 20, back, sizeof(back)), 0);
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHECK_EQ(gmem_fill(&vm, 2 * SZ_2M - 1, 0xab, 2), 0);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(2 * SZ_2M - 1), 0xab);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(2 * SZ_2M), 0xab);

	/* Bounds: the last byte, one past, a length that wraps. */
	CHECK_EQ(gmem_write(&vm, VM_SIZE - 1, buf, 1), 0);
	CHECK_EQ(gmem_write(&vm, VM_SIZE - 1, buf, 2), -EFAULT);
	CHECK_EQ(gmem_read(&vm, VM_SIZE, back, 1), -EFAULT);
	CHECK_EQ(gmem_read(&vm, 16, back, ~0ULL - 8), -EFAULT);
	CHECK_EQ(gmem_write(&vm, ~0ULL - 4, buf, 8), -EFAULT);
	CHECK_EQ(gmem_read(&vm, VM_SIZE, back, 0), 0);
	CHECK_EQ(gmem_fill(&vm, VM_SIZE - 4, 0, 5), -EFAULT);

	/* gmem_map: within one chunk only. */
	CHECK_EQ((u64)(uintptr_t)gmem_map(&vm, 0x3000, 16, false), hpa_of(0x3000));
	CHECK(gmem_map(&vm, SZ_2M - 8, 16, false) == NULL);
	CHECK(gmem_map(&vm, VM_SIZE - 8, 16, false) == NULL);
	CHECK(gmem_map(&vm, ~0ULL - 2, 8, false) == NULL);
	CHECK_EQ((u64)(uintptr_t)gmem_map(&vm, VM_SIZE - 1, 0, false), hpa_of(VM_SIZE - 1));
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
}

/*
 * Aligned 2-, 4- and 8-byte accesses take the one-load/one-store path (a
 * ring index read whole while the driver writes it): the values, into and
 * out of a caller's buffer that is not aligned, and the dirty mark.
 */
TEST(aligned_words_are_read_and_written_whole)
{
	u8 raw[17], back[17];

	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	for (unsigned i = 0; i < sizeof(raw); i++)
		raw[i] = (u8)(0xa0 + i);
	CHECK_EQ(gmem_write(&vm, 0x4002, raw + 1, 2), 0);
	CHECK_EQ(gmem_write(&vm, 0x4004, raw + 3, 4), 0);
	CHECK_EQ(gmem_write(&vm, 0x4008, raw + 7, 8), 0);
	CHECK_EQ(*(u16 *)(uintptr_t)hpa_of(0x4002), 0xa2a1);
	CHECK_EQ(*(u32 *)(uintptr_t)hpa_of(0x4004), 0xa6a5a4a3);
	CHECK_EQ(*(u64 *)(uintptr_t)hpa_of(0x4008), 0xaeadacabaaa9a8a7ULL);
	CHECK_EQ(*(u8 *)(uintptr_t)hpa_of(0x4010), 0); /* nothing past the 8 */
	memset(back, 0, sizeof(back));
	CHECK_EQ(gmem_read(&vm, 0x4002, back + 1, 2), 0);
	CHECK_EQ(gmem_read(&vm, 0x4004, back + 3, 4), 0);
	CHECK_EQ(gmem_read(&vm, 0x4008, back + 7, 8), 0);
	CHECK(memcmp(back + 1, raw + 1, 14) == 0);
	CHECK_EQ(back[0], 0); /* nothing before or after */
	CHECK_EQ(back[15], 0);
	CHECK_EQ(gmem_dirty_count(&vm), 1); /* page 4 */
	CHECK_EQ(gmem_read(&vm, VM_SIZE - 4, back, 8), -EFAULT);
	CHECK_EQ(gmem_write(&vm, VM_SIZE, raw, 2), -EFAULT);
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
}

static u64 harvest_into(u64 *bm, u64 nbits)
{
	return gmem_dirty_harvest(&vm, bm, nbits);
}

static bool bit(const u64 *bm, u64 n)
{
	return bm[n / 64] >> (n % 64) & 1;
}

TEST(hypervisor_writes_are_marked)
{
	static u64 bm[NPAGES / 64];
	u8 b[8] = { 0 };

	unsigned before = shootdowns;

	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	CHECK_EQ(gmem_dirty_count(&vm), 0);
	CHECK_EQ(gmem_write(&vm, 0x5ffe, b, 4), 0); /* pages 5 and 6 */
	CHECK_EQ(gmem_read(&vm, 0x9000, b, 8), 0);  /* reads mark nothing */
	CHECK(gmem_map(&vm, 0xa000, 8, false) != NULL);
	CHECK(gmem_map(&vm, 0x200000, 1, true) != NULL); /* page 512 */
	CHECK_EQ(gmem_write(&vm, VM_SIZE, b, 1), -EFAULT); /* fails: marks nothing */
	CHECK_EQ(gmem_dirty_count(&vm), 3);
	CHECK_EQ(harvest_into(bm, NPAGES), 3);
	CHECK(bit(bm, 5) && bit(bm, 6) && bit(bm, 512));
	CHECK(!bit(bm, 9) && !bit(bm, 10) && !bit(bm, 4) && !bit(bm, 7));
	CHECK_EQ(gmem_dirty_count(&vm), 0);
	CHECK_EQ(harvest_into(bm, NPAGES), 0);
	/* Not logging: harvest does not touch the tables. */
	CHECK_EQ(shootdowns, before);
	gmem_destroy(&vm);
}

TEST(dirty_logging_traps_marks_and_reprotects)
{
	static u64 bm[NPAGES / 64 + 1];
	u64 base, sz = 0;

	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	base = pages_out;
	CHECK_EQ(gmem_write(&vm, 0x1000, "x", 1), 0); /* before logging: not news */
	CHECK_EQ(gmem_dirty_log_start(&vm), 0);
	CHECK(vm.gmem.logging);
	CHECK_EQ(pages_out, base + NCHUNKS); /* one page table per chunk */
	CHECK_EQ(gmem_dirty_count(&vm), 0);
	for (u64 p = 0; p < NPAGES; p++) {
		CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, p * PAGE_SIZE, &sz), hpa_of(p * PAGE_SIZE));
		if (sz != PAGE_SIZE || nested_pt_writable(&vm.gmem.pt, p * PAGE_SIZE)) {
			CHECK(!"every page 4 KiB and read-only");
			break;
		}
	}
	/* Guest writes: the fault path marks and unprotects. */
	CHECK(gmem_dirty_fault(&vm, 0x7123));
	CHECK(nested_pt_writable(&vm.gmem.pt, 0x7000));
	CHECK(!nested_pt_writable(&vm.gmem.pt, 0x8000));
	CHECK(gmem_dirty_fault(&vm, 0x7ff8)); /* again: still fine */
	CHECK(gmem_dirty_fault(&vm, VM_SIZE - 1));
	CHECK(!gmem_dirty_fault(&vm, VM_SIZE)); /* not RAM: for the MMIO path */
	/* A hypervisor write for the guest. */
	CHECK_EQ(gmem_write(&vm, 0x300010, "abc", 3), 0);
	CHECK_EQ(gmem_dirty_count(&vm), 3);

	/* A short harvest takes only the first nbits pages. */
	CHECK_EQ(harvest_into(bm, 100), 1);
	CHECK(bit(bm, 7));
	CHECK(!nested_pt_writable(&vm.gmem.pt, 0x7000)); /* protected again */
	CHECK_EQ(gmem_dirty_count(&vm), 2);
	unsigned before = shootdowns;

	CHECK_EQ(harvest_into(bm, NPAGES), 2);
	CHECK_EQ(shootdowns, before + 1);
	CHECK(bit(bm, 0x300) && bit(bm, NPAGES - 1) && !bit(bm, 7) && !bit(bm, 1));
	u64 n = 0;

	for (u64 w = 0; w < NPAGES / 64; w++)
		n += (u64)__builtin_popcountll(bm[w]);
	CHECK_EQ(n, 2);
	CHECK(!nested_pt_writable(&vm.gmem.pt, VM_SIZE - PAGE_SIZE));
	/* The same page again after a harvest: trapped again. */
	CHECK(gmem_dirty_fault(&vm, 0x7000));
	CHECK_EQ(gmem_dirty_count(&vm), 1);

	/* Stop: back to 2 MiB writable pages, the page tables freed. */
	gmem_dirty_log_stop(&vm);
	CHECK(!vm.gmem.logging);
	CHECK_EQ(pages_out, base);
	for (u64 c = 0; c < NCHUNKS; c++) {
		CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, c * SZ_2M + 0x10, &sz), hpa_of(c * SZ_2M + 0x10));
		CHECK_EQ(sz, SZ_2M);
		CHECK(nested_pt_writable(&vm.gmem.pt, c * SZ_2M));
	}
	/* A fault from before the stop finds the page writable: resume. */
	CHECK(gmem_dirty_fault(&vm, 0x5000));
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
}

/* The leaf of gpa (split), to play the CPU that sets its dirty flag. */
static u64 *leaf_of(u64 gpa)
{
	int at;
	u64 *e = pt_walk(vm.gmem.pt.root, gpa, 0, vm.gmem.pt.fmt, NULL, &at);

	return e && at == 0 ? e : NULL;
}

TEST(dirty_logging_with_ept_dirty_flags)
{
	static u64 bm[NPAGES / 64];
	u64 base, *e;
	unsigned before;

	fake_vendor.pt_format = &pt_format_ept;
	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	vm.gmem.hw_dirty = true; /* as vmx_vm_init sets it */
	base = pages_out;
	/* A dirty flag from before logging (a 2 MiB leaf the CPU wrote through). */
	e = (u64 *)pt_walk(vm.gmem.pt.root, 0, 1, vm.gmem.pt.fmt, NULL, NULL);
	*e |= BIT(9);
	CHECK_EQ(gmem_dirty_log_start(&vm), 0);
	CHECK_EQ(pages_out, base + NCHUNKS);
	CHECK_EQ(gmem_dirty_count(&vm), 0); /* the split leaves start clean */
	/* Nothing is write-protected: writes do not exit. */
	for (u64 p = 0; p < NPAGES; p += 97)
		CHECK(nested_pt_writable(&vm.gmem.pt, p * PAGE_SIZE));
	CHECK(leaf_of(0x5000) && !(*leaf_of(0x5000) & BIT(9)));
	/* The CPU writes pages 5 and 700; the hypervisor writes page 1000. */
	*leaf_of(0x5000) |= BIT(8) | BIT(9);
	*leaf_of(700 * PAGE_SIZE) |= BIT(8) | BIT(9);
	*leaf_of(0x6000) |= BIT(8); /* only read */
	CHECK_EQ(gmem_write(&vm, 1000 * PAGE_SIZE, "z", 1), 0);
	CHECK_EQ(gmem_dirty_count(&vm), 3);
	before = shootdowns;
	CHECK_EQ(gmem_dirty_harvest(&vm, bm, NPAGES), 3);
	CHECK_EQ(shootdowns, before + 1); /* so the CPU sets the flags again */
	CHECK(bit(bm, 5) && bit(bm, 700) && bit(bm, 1000) && !bit(bm, 6));
	CHECK(!(*leaf_of(0x5000) & BIT(9)));
	CHECK(*leaf_of(0x5000) & BIT(8)); /* accessed stays */
	CHECK(nested_pt_writable(&vm.gmem.pt, 0x5000));
	CHECK_EQ(gmem_dirty_count(&vm), 0);
	CHECK_EQ(gmem_dirty_harvest(&vm, bm, NPAGES), 0);
	/* A short harvest leaves the pages past nbits for the next. */
	*leaf_of(3 * PAGE_SIZE) |= BIT(9);
	*leaf_of(900 * PAGE_SIZE) |= BIT(9);
	CHECK_EQ(gmem_dirty_harvest(&vm, bm, 64), 1);
	CHECK(bit(bm, 3));
	CHECK_EQ(gmem_dirty_count(&vm), 1);
	CHECK_EQ(gmem_dirty_harvest(&vm, bm, NPAGES), 1);
	CHECK(bit(bm, 900));
	gmem_dirty_log_stop(&vm);
	CHECK_EQ(pages_out, base); /* merged despite the flags */
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
	fake_vendor.pt_format = &pt_format_npt;
}

TEST(destroy_while_logging_frees_everything)
{
	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	CHECK_EQ(gmem_dirty_log_start(&vm), 0);
	CHECK(gmem_dirty_fault(&vm, 0x1000));
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
	/* Start without memory for the split: refused, nothing changed. */
	CHECK_EQ(gmem_init(&vm, VM_SIZE), 0);
	u64 base = pages_out;

	alloc_budget = 2;
	CHECK_EQ(gmem_dirty_log_start(&vm), -ENOMEM);
	alloc_budget = -1;
	CHECK(!vm.gmem.logging);
	CHECK_EQ(pages_out, base);
	CHECK(nested_pt_writable(&vm.gmem.pt, 0));
	CHECK(nested_pt_writable(&vm.gmem.pt, VM_SIZE - 1));
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
}

/* ---- a VM of 4 GiB: RAM below the PCI hole and above 4 GiB ---- */

#define GiB (1ULL << 30)
#define HOLE 0xc0000000ULL
#define HIGH 0x100000000ULL
#define APIC_PAGE 0xfee00000ULL

TEST(big_vm_leaves_the_pci_hole_free)
{
	u64 sz = 0, word = 0x1122334455667788ULL, got = 0;
	static u64 bm[(HIGH + GiB) / PAGE_SIZE / 64];

	lazy_chunks = true;
	CHECK_EQ(gmem_init(&vm, 4 * GiB), 0);
	lazy_chunks = false;
	CHECK_EQ(gmem_size(&vm), 4 * GiB);
	CHECK_EQ(gmem_end(&vm), HIGH + GiB);
	CHECK_EQ(vm.gmem.nr_chunks, (HIGH + GiB) / SZ_2M);
	CHECK(vm.gmem.chunks[HOLE / SZ_2M - 1] != 0);
	CHECK_EQ(vm.gmem.chunks[HOLE / SZ_2M], 0);
	CHECK_EQ(vm.gmem.chunks[APIC_PAGE / SZ_2M], 0);
	CHECK(vm.gmem.chunks[HIGH / SZ_2M] != 0);
	/* The tables: RAM on both sides, nothing in the hole. */
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, HOLE - 8, &sz), hpa_of(HOLE - 8));
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, HOLE, NULL), ~0ULL);
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, APIC_PAGE, NULL), ~0ULL);
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, HIGH + GiB - 8, &sz), hpa_of(HIGH + GiB - 8));
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, HIGH + GiB, NULL), ~0ULL);
	/* The accessors: RAM on both sides, -EFAULT in and across the hole. */
	CHECK(gmem_in_ram(&vm.gmem, HOLE - PAGE_SIZE, PAGE_SIZE));
	CHECK(!gmem_in_ram(&vm.gmem, HOLE - PAGE_SIZE, PAGE_SIZE + 1));
	CHECK(!gmem_in_ram(&vm.gmem, APIC_PAGE, 4));
	CHECK_EQ(gmem_write(&vm, HIGH, &word, 8), 0);
	CHECK_EQ(gmem_read(&vm, HIGH, &got, 8), 0);
	CHECK_EQ(got, word);
	CHECK_EQ(gmem_write(&vm, HOLE - 8, &word, 8), 0);
	CHECK_EQ(gmem_write(&vm, HOLE - 4, &word, 8), -EFAULT);
	CHECK_EQ(gmem_read(&vm, APIC_PAGE, &got, 4), -EFAULT);
	CHECK_EQ(gmem_write(&vm, HIGH - 4, &word, 8), -EFAULT);
	CHECK_EQ(gmem_write(&vm, HIGH + GiB - 4, &word, 8), -EFAULT);
	CHECK(gmem_peek(&vm.gmem, HOLE - 8, 8) != NULL);
	CHECK(gmem_peek(&vm.gmem, HOLE, 8) == NULL);
	CHECK(gmem_peek(&vm.gmem, HIGH, 8) != NULL);
	/* A passed-through BAR goes in the hole, never over RAM. */
	CHECK_EQ(gmem_pt_map_mmio(&vm, 0xd0000000ULL, 0xd0000000ULL, PAGE_SIZE), 0);
	CHECK_EQ(gmem_pt_map_mmio(&vm, HOLE - PAGE_SIZE, 0xd0000000ULL, 2 * PAGE_SIZE), -EEXIST);
	CHECK_EQ(gmem_pt_map_mmio(&vm, HIGH, 0xd0000000ULL, PAGE_SIZE), -EEXIST);
	/* The dirty log marks by guest-physical page, RAM only, and leaves
	 * the BAR alone. */
	CHECK_EQ(gmem_dirty_log_start(&vm), 0);
	CHECK(!nested_pt_writable(&vm.gmem.pt, HIGH));
	CHECK(nested_pt_writable(&vm.gmem.pt, 0xd0000000ULL));
	gmem_mark_dirty(&vm, HOLE - PAGE_SIZE, 2 * PAGE_SIZE); /* the second page is the hole's */
	CHECK_EQ(gmem_write(&vm, HIGH + GiB - 8, &word, 8), 0);
	CHECK(!gmem_dirty_fault(&vm, APIC_PAGE));
	CHECK(gmem_dirty_fault(&vm, HIGH + PAGE_SIZE));
	CHECK_EQ(gmem_dirty_count(&vm), 3);
	CHECK_EQ(gmem_dirty_harvest(&vm, bm, (HIGH + GiB) / PAGE_SIZE), 3);
	CHECK(bm[(HOLE / PAGE_SIZE - 1) / 64] >> 63);
	CHECK(!(bm[HOLE / PAGE_SIZE / 64] & 1));
	CHECK(bm[(HIGH / PAGE_SIZE + 1) / 64] & 2);
	CHECK(bm[((HIGH + GiB) / PAGE_SIZE - 1) / 64] >> 63);
	gmem_dirty_log_stop(&vm);
	CHECK(nested_pt_writable(&vm.gmem.pt, HIGH));
	CHECK_EQ(nested_pt_lookup(&vm.gmem.pt, HIGH + 0x1234, &sz), hpa_of(HIGH + 0x1234));
	CHECK_EQ(sz, SZ_2M);
	gmem_destroy(&vm);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(bad_frees, 0);
}

int main(void)
{
	RUN(init_maps_every_chunk_and_destroy_frees_all);
	RUN(init_refuses_bad_sizes_and_unwinds_on_failure);
	RUN(random_operations_match_the_model_npt);
	RUN(random_operations_match_the_model_ept);
	RUN(merge_ignores_accessed_and_dirty_bits);
	RUN(accessors_check_bounds_and_cross_chunks);
	RUN(aligned_words_are_read_and_written_whole);
	RUN(hypervisor_writes_are_marked);
	RUN(dirty_logging_traps_marks_and_reprotects);
	RUN(dirty_logging_with_ept_dirty_flags);
	RUN(destroy_while_logging_frees_everything);
	RUN(big_vm_leaves_the_pci_hole_free);
	return unit_done();
}
