/*
 * Host tests of the shadow MMU (arch/x86/mmu/): the guest walk with its
 * accessed and dirty bits, the leaves the builder writes (rights, NX, WP=0,
 * dirty logging's say, MMIO left unmapped), INVLPG and flushes, the
 * registers the guest runs with, over a fake guest RAM.
 */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/gwalk.h"
#include "hv/shadow.h"
#include "hv/vm.h"
#include "fake_gmem.h"
#include "shadow_check.h"

#define RAM_SIZE (8ULL << 20)

static struct vm vm;
static u8 *ram;
static struct shadow_mmu sh;
static u64 readonly_gpa = ~0ULL; /* the dirty log keeps this page read-only */
static int writable_calls;

bool shadow_gmem_writable(struct vm *v, u64 gpa, bool write)
{
	writable_calls++;
	return gpa != readonly_gpa;
}

static void reset(void)
{
	if (!ram)
		ram = aligned_alloc(PAGE_SIZE, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram, RAM_SIZE);
	if (sh.root)
		shadow_destroy(&sh);
	CHECK_EQ(shadow_init(&sh, check_table_alloc, check_table_free), 0);
	readonly_gpa = ~0ULL;
}

static void set64(u64 gpa, u64 v) { memcpy(ram + gpa, &v, 8); }
static void set32(u64 gpa, u32 v) { memcpy(ram + gpa, &v, 4); }
static u64 get64(u64 gpa) { u64 v; memcpy(&v, ram + gpa, 8); return v; }
static u32 get32(u64 gpa) { u32 v; memcpy(&v, ram + gpa, 4); return v; }
static u64 hpa(u64 gpa) { return (u64)(uintptr_t)ram + gpa; }
static bool dirty_marked(u64 gpa) { return vm.gmem.dirty[gpa / 4096 / 64] & (1ULL << (gpa / 4096 % 64)); }

#define P BIT(0)
#define RW BIT(1)
#define US BIT(2)
#define PWT BIT(3)
#define PCD BIT(4)
#define A BIT(5)
#define D BIT(6)
#define PS BIT(7)
#define NX BIT(63)
#define ADDR 0x000ffffffffff000ULL

static struct shadow_fault f;

/* A #PF at la with error code err, through the shadow MMU; hw regs
 * taken first, as svm_run would before the entry. */
static enum shadow_fault_kind fault(const struct guest_ctx *c, u64 la, u32 err)
{
	struct shadow_hw hw;

	shadow_hw_regs(&sh, c, &hw);
	memset(&f, 0xaa, sizeof(f));
	shadow_page_fault(&sh, &vm, c, la, err, &f);
	CHECK(shadow_check_tree(&sh, &vm) >= 0);
	return f.kind;
}

/* The same 4-level layout as test_gwalk.c:
 *   0x400000 -> 0x10000 user rw; 0x401000 -> 0x11000 supervisor ro;
 *   0x402000 -> 0x12000 user NX; 0x403000 not present; 0x600000 2 MiB at
 *   0x200000; 0x40000000 1 GiB at 0x80000000 (outside RAM: MMIO);
 *   0x404000 -> 0x7ff000 (last RAM page); 0x405000 -> 0x900000 (beyond RAM). */
static struct guest_ctx long_ctx(void)
{
	struct guest_ctx c = { 0 };

	reset();
	set64(0x1000, 0x2000 | P | RW | US);
	set64(0x2000, 0x3000 | P | RW | US);
	set64(0x2000 + 8, 0x80000000 | P | RW | PS);
	set64(0x3000 + 2 * 8, 0x4000 | P | RW | US);
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | US | PS | PCD);
	set64(0x4000, 0x10000 | P | RW | US);
	set64(0x4000 + 8, 0x11000 | P);
	set64(0x4000 + 16, 0x12000 | P | RW | US | NX);
	set64(0x4000 + 32, 0x7ff000 | P | RW);
	set64(0x4000 + 40, 0x900000 | P | RW);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.efer = EFER_LME | EFER_LMA | EFER_NXE;
	c.cr3 = 0x1000;
	return c;
}

TEST(long_mode_read_then_write)
{
	struct guest_ctx c = long_ctx();
	u64 leaf;

	CHECK_EQ(fault(&c, 0x400123, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(sh.levels, 4);
	leaf = shadow_leaf_of(&sh, 0x400123);
	CHECK_EQ(leaf & ADDR, hpa(0x10000));
	CHECK(leaf & US);
	CHECK(!(leaf & RW)); /* D clear: the first write must fault */
	/* Accessed set at every level, dirty not (a read). */
	CHECK_EQ(get64(0x1000), 0x2000 | P | RW | US | A);
	CHECK_EQ(get64(0x2000), 0x3000 | P | RW | US | A);
	CHECK_EQ(get64(0x3000 + 16), 0x4000 | P | RW | US | A);
	CHECK_EQ(get64(0x4000), 0x10000 | P | RW | US | A);
	CHECK(dirty_marked(0x4000)); /* the CPU's A/D writes are guest writes */
	CHECK_EQ(fault(&c, 0x400123, PF_ERR_U | PF_ERR_W | PF_ERR_P), SHADOW_FIXED);
	leaf = shadow_leaf_of(&sh, 0x400123);
	CHECK(leaf & RW);
	CHECK_EQ(get64(0x4000), 0x10000 | P | RW | US | A | D);
	CHECK(sh.roots[sh.cur].tlb_stale);
}

TEST(long_mode_rights)
{
	struct guest_ctx c = long_ctx();

	/* User read of a supervisor page: the guest's #PF, P set. */
	CHECK_EQ(fault(&c, 0x401000, PF_ERR_U), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_U);
	CHECK_EQ(get64(0x4000 + 8), 0x11000 | P); /* no A on a fault */
	/* Supervisor write to a read-only page with WP set. */
	CHECK_EQ(fault(&c, 0x401000, PF_ERR_W), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_W);
	/* Not present. */
	CHECK_EQ(fault(&c, 0x403000, 0), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, 0);
	/* NX: a fetch faults with I/D; a read gets an NX leaf. */
	CHECK_EQ(fault(&c, 0x402000, PF_ERR_U | PF_ERR_ID), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	CHECK_EQ(fault(&c, 0x402000, PF_ERR_U), SHADOW_FIXED);
	CHECK(shadow_leaf_of(&sh, 0x402000) & NX);
	/* SMEP: a supervisor fetch from a user page. */
	c.cr4 |= CR4_SMEP;
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_ID), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_ID);
	/* Reserved bit: XD without NXE. */
	c.efer &= ~EFER_NXE;
	CHECK_EQ(fault(&c, 0x402000, PF_ERR_U), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_U | PF_ERR_RSVD);
	/* Non-canonical: a #GP. */
	CHECK_EQ(fault(&c, 0x0000800000000000ULL, 0), SHADOW_GP);
}

TEST(wp_clear_supervisor_write)
{
	struct guest_ctx c = long_ctx();
	u64 leaf;

	c.cr0 &= ~CR0_WP;
	CHECK_EQ(fault(&c, 0x401000, PF_ERR_W), SHADOW_FIXED);
	leaf = shadow_leaf_of(&sh, 0x401000);
	CHECK(leaf & RW);
	CHECK(!(leaf & US)); /* so a user access faults again */
	CHECK_EQ(get64(0x4000 + 8), 0x11000 | P | A | D);
	/* The guest runs with WP set all the same. */
	struct shadow_hw hw;
	shadow_hw_regs(&sh, &c, &hw);
	CHECK(hw.cr0 & CR0_WP);
}

TEST(large_pages_and_mmio)
{
	struct guest_ctx c = long_ctx();
	u64 leaf;

	CHECK_EQ(fault(&c, 0x6abcde, PF_ERR_W), SHADOW_FIXED); /* 2 MiB page */
	leaf = shadow_leaf_of(&sh, 0x6abcde);
	CHECK_EQ(leaf & ADDR, hpa(0x2ab000));
	CHECK(leaf & RW);
	CHECK(leaf & PCD); /* cache bits copied */
	CHECK(!sh.huge);
	/* The 1 GiB page lies outside RAM: MMIO, and nothing mapped. */
	CHECK_EQ(fault(&c, 0x40000123, 0), SHADOW_MMIO);
	CHECK_EQ(f.gpa, 0x80000123);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40000123), 0);
	CHECK_EQ(fault(&c, 0x405008, PF_ERR_W), SHADOW_MMIO);
	CHECK_EQ(f.gpa, 0x900008);
	/* The last page of RAM is mapped, and inside it. */
	CHECK_EQ(fault(&c, 0x404ff8, PF_ERR_W), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x404ff8) & ADDR, hpa(0x7ff000));
	CHECK_EQ(shadow_check_tree(&sh, &vm), 2);
}

/* RAM with a hole, as a VM of more than 3 GiB has the PCI hole: here the
 * fake's third chunk, [4 MiB, 6 MiB), is taken out (include/hv/gmem.h). A
 * leaf into the hole is MMIO and never mapped; one past it is RAM. */
TEST(leaf_into_the_hole_is_mmio)
{
	struct guest_ctx c = long_ctx();

	vm.gmem.low_end = 4ULL << 20;
	vm.gmem.high_start = 6ULL << 20;
	vm.gmem.chunks[2] = 0;
	set64(0x4000 + 48, 0x5ff000 | P | RW);  /* 0x406000: the hole's last page */
	set64(0x4000 + 56, 0x600000 | P | RW);  /* 0x407000: the first page after it */
	set64(0x4000 + 64, 0x3ff000 | P | RW);  /* 0x408000: the last page before it */
	CHECK_EQ(fault(&c, 0x406010, 0), SHADOW_MMIO);
	CHECK_EQ(f.gpa, 0x5ff010);
	CHECK_EQ(shadow_leaf_of(&sh, 0x406010), 0);
	CHECK_EQ(fault(&c, 0x407010, PF_ERR_W), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x407010) & ADDR, hpa(0x600000));
	CHECK_EQ(fault(&c, 0x408010, PF_ERR_W), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x408010) & ADDR, hpa(0x3ff000));
}

TEST(one_gib_page_makes_invlpg_flush)
{
	struct guest_ctx c = long_ctx();

	set64(0x2000 + 8, 0x0 | P | RW | PS); /* 1 GiB at 0: RAM */
	CHECK_EQ(fault(&c, 0x40001000, 0), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40001000) & ADDR, hpa(0x1000));
	CHECK(sh.huge);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	shadow_invlpg(&sh, 0x40002000);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0); /* everything went */
	CHECK(!sh.huge);
}

TEST(table_outside_ram)
{
	struct guest_ctx c = long_ctx();

	set64(0x3000 + 4 * 8, 0x10000000 | P | RW); /* PD[4] -> a PT at 256 MiB */
	CHECK_EQ(fault(&c, 0x800000, 0), SHADOW_BAD_TABLE);
	CHECK_EQ(f.gpa, 0x10000000 + 0);
	c.cr3 = 0x7fff000 + 0x10000000;
	CHECK_EQ(fault(&c, 0x800000, 0), SHADOW_BAD_TABLE);
}

TEST(dirty_log_keeps_page_read_only)
{
	struct guest_ctx c = long_ctx();

	readonly_gpa = 0x10000;
	set64(0x4000, 0x10000 | P | RW | US | A | D);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK(!(shadow_leaf_of(&sh, 0x400000) & RW));
	readonly_gpa = ~0ULL; /* the write marks it, then it may be writable */
	writable_calls = 0;
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U | PF_ERR_W | PF_ERR_P), SHADOW_FIXED);
	CHECK_EQ(writable_calls, 1);
	CHECK(shadow_leaf_of(&sh, 0x400000) & RW);
}

TEST(invlpg_and_flush)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x6abcde, 0), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x402000, PF_ERR_U), SHADOW_FIXED);
	sh.roots[sh.cur].tlb_stale = false;
	shadow_invlpg(&sh, 0x400234); /* a 4 KiB guest page: its leaf alone */
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	CHECK(shadow_leaf_of(&sh, 0x402000));
	CHECK(shadow_leaf_of(&sh, 0x6abcde));
	CHECK(!sh.roots[sh.cur].tlb_stale);
	CHECK_EQ(sh.roots[sh.cur].tlb_pages, 1);
	shadow_invlpg(&sh, 0x612345); /* a 2 MiB guest page: the 4 MiB region */
	CHECK_EQ(shadow_leaf_of(&sh, 0x402000), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x6abcde), 0);
	CHECK(sh.roots[sh.cur].tlb_stale);
	shadow_invlpg(&sh, 0x1400000); /* nothing there */
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	/* A guest that changes its PTE and INVLPGs sees the new page. */
	set64(0x4000, 0x20000 | P | RW | US);
	shadow_invlpg(&sh, 0x400000);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000) & ADDR, hpa(0x20000));
	shadow_flush(&sh);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	CHECK_EQ(sh.used, 0);
}

TEST(pool_runs_out)
{
	struct guest_ctx c = long_ctx();

	/* 1 GiB at 0 mapped by every PML4 entry's PDPT entry 0: each la
	 * 512 GiB apart needs two new tables. */
	set64(0x1000, 0x2000 | P | RW | US);
	for (unsigned i = 1; i < 256; i++)
		set64(0x1000 + i * 8, 0x2000 | P | RW | US);
	set64(0x2000, 0x0 | P | RW | US | PS);
	for (unsigned i = 0; i < 256; i++)
		CHECK_EQ(fault(&c, (u64)i << 39, 0), SHADOW_FIXED);
	CHECK(sh.stats.full >= 1);
	CHECK(sh.allocated <= SHADOW_MAX_TABLES);
	CHECK(shadow_leaf_of(&sh, 255ULL << 39));
}

TEST(pae_paging)
{
	struct guest_ctx c = { 0 };

	reset();
	/* PDPT at 0x1020 (32-byte aligned), PDPTE[1] -> PD 0x2000:
	 * PD[0] -> PT 0x3000 (PT[5] -> 0x15000), PD[1] 2 MiB at 0x400000. */
	set64(0x1020 + 8, 0x2000 | P);
	set64(0x2000, 0x3000 | P | RW | US);
	set64(0x2000 + 8, 0x400000 | P | RW | PS);
	set64(0x3000 + 5 * 8, 0x15000 | P | RW | US | NX);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.efer = EFER_NXE;
	c.cr3 = 0x1020;
	CHECK_EQ(fault(&c, 0x40005010, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(sh.levels, 3);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40005010) & ADDR, hpa(0x15000));
	CHECK(shadow_leaf_of(&sh, 0x40005010) & NX);
	CHECK_EQ(get64(0x1020 + 8), 0x2000 | P); /* PDPTEs have no A bit */
	CHECK_EQ(get64(0x2000), 0x3000 | P | RW | US | A);
	CHECK_EQ(fault(&c, 0x40212345, PF_ERR_W), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40212345) & ADDR, hpa(0x412000));
	CHECK_EQ(get64(0x2000 + 8), 0x400000 | P | RW | PS | A | D);
	/* A reserved PDPTE bit (R/W). */
	set64(0x1020 + 16, 0x2000 | P | RW);
	CHECK_EQ(fault(&c, 0x80000000, 0), SHADOW_GUEST_FAULT);
	CHECK_EQ(f.error, PF_ERR_P | PF_ERR_RSVD);
}

TEST(paging_32bit)
{
	struct guest_ctx c = { 0 };
	struct shadow_hw hw;

	reset();
	/* PD at 0x1000: PD[1] -> PT 0x2000 (PT[3] -> 0x33000 user ro),
	 * PD[2] 4 MiB page at 0x400000 with PSE. */
	set32(0x1000 + 4, 0x2000 | P | RW | US);
	set32(0x1000 + 8, 0x400000 | P | RW | PS);
	set32(0x2000 + 12, 0x33000 | P | US);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PSE;
	c.cr3 = 0x1000;
	CHECK_EQ(fault(&c, 0x403abc, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x403abc) & ADDR, hpa(0x33000));
	CHECK_EQ(get32(0x1000 + 4), 0x2000 | P | RW | US | A);
	CHECK_EQ(get32(0x2000 + 12), 0x33000 | P | US | A);
	CHECK_EQ(fault(&c, 0x403abc, PF_ERR_U | PF_ERR_W | PF_ERR_P), SHADOW_GUEST_FAULT);
	CHECK_EQ(fault(&c, 0xabcdef, PF_ERR_W), SHADOW_FIXED); /* in the 4 MiB page */
	CHECK_EQ(shadow_leaf_of(&sh, 0xabcdef) & ADDR, hpa(0x6bc000));
	CHECK(!(shadow_leaf_of(&sh, 0xabcdef) & US));
	CHECK_EQ(get32(0x1000 + 8), 0x400000 | P | RW | PS | A | D);
	/* INVLPG anywhere in the 4 MiB page drops all of it (two shadow PTs). */
	CHECK_EQ(fault(&c, 0x800000, 0), SHADOW_FIXED);
	shadow_invlpg(&sh, 0x9ff000);
	CHECK_EQ(shadow_leaf_of(&sh, 0xabcdef), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x800000), 0);
	/* The guest runs on PAE tables, CR4.PAE set behind its back. */
	shadow_hw_regs(&sh, &c, &hw);
	CHECK_EQ(hw.cr4, CR4_PSE | CR4_PAE);
	CHECK_EQ(hw.cr3, sh.root);
	/* Without PSE, PS is ignored: the PDE points to a table. */
	c.cr4 = 0;
	set32(0x400000, 0x55000 | P);
	shadow_flush(&sh);
	CHECK_EQ(fault(&c, 0x800000, 0), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x800000) & ADDR, hpa(0x55000));
}

TEST(paging_off)
{
	struct guest_ctx c = { 0 };
	struct shadow_hw hw;

	reset();
	CHECK_EQ(fault(&c, 0xffff0, PF_ERR_ID), SHADOW_FIXED); /* real mode */
	CHECK_EQ(shadow_leaf_of(&sh, 0xffff0) & ADDR, hpa(0xff000));
	CHECK(shadow_leaf_of(&sh, 0xffff0) & (RW | US));
	CHECK_EQ(fault(&c, 0xfee00000, PF_ERR_W), SHADOW_MMIO);
	CHECK_EQ(f.gpa, 0xfee00000);
	/* Paged real mode: PG without PE (APM vol. 2, 15.19), PAE tables, no
	 * long mode even with LME set before paging. */
	c.efer = EFER_LME;
	shadow_hw_regs(&sh, &c, &hw);
	CHECK_EQ(hw.cr0, CR0_PG | CR0_WP);
	CHECK_EQ(hw.cr4, CR4_PAE);
	CHECK_EQ(hw.efer, 0);
	/* Entering long mode changes the format: a flush. */
	c = long_ctx();
	CHECK_EQ(fault(&c, 0x400000, 0), SHADOW_FIXED);
	CHECK_EQ(sh.levels, 4);
	c.cr0 = 0;
	c.efer = 0;
	shadow_hw_regs(&sh, &c, &hw);
	CHECK_EQ(sh.levels, 3);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
}

/* VT-x's virtual-8086 TSS (arch/x86/vmx/vmx_rmode.c): a host page in the
 * shadow, supervisor-only, written once, flushed with the rest. */
TEST(host_page_mapped)
{
	static u8 host_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	u64 host = (u64)(uintptr_t)host_page, leaf, fills;
	struct guest_ctx c = { 0 };

	reset();
	CHECK_EQ(fault(&c, 0x5000, 0), SHADOW_FIXED); /* real mode: the identity map */
	sh.roots[sh.cur].tlb_stale = false;
	CHECK(!shadow_map_host(&sh, 0xfffec000, host));
	leaf = shadow_leaf_of(&sh, 0xfffec000);
	CHECK_EQ(leaf & ADDR, host);
	CHECK(leaf & RW);
	CHECK(!(leaf & US));
	CHECK(!sh.roots[sh.cur].tlb_stale); /* nothing was cached there */
	fills = sh.stats.fills;
	CHECK(!shadow_map_host(&sh, 0xfffec000, host)); /* again: no change */
	CHECK(!sh.roots[sh.cur].tlb_stale);
	CHECK_EQ(sh.stats.fills, fills);
	CHECK(!shadow_map_host(&sh, 0x5000, host)); /* over a guest leaf */
	CHECK_EQ(sh.roots[sh.cur].tlb_pages, 1); /* that page goes from the TLB */
	CHECK_EQ(sh.roots[sh.cur].tlb_page[0], 0x5000);
	shadow_flush(&sh);
	CHECK_EQ(shadow_leaf_of(&sh, 0xfffec000), 0);
}

TEST(entry_changed_under_walk_is_not_touched)
{
	struct guest_ctx c = long_ctx();

	/* A not-present PTE with software bits (a swap entry) keeps them. */
	set64(0x4000 + 24, 0x123456000ULL | 0x40);
	CHECK_EQ(fault(&c, 0x403000, 0), SHADOW_GUEST_FAULT);
	CHECK_EQ(get64(0x4000 + 24), 0x123456000ULL | 0x40);
}

/* Kept roots (arch/x86/mmu/shadow_roots.c): the guest loads CR3 = cr3. */
static void load(struct guest_ctx *c, u64 cr3)
{
	c->cr3 = cr3;
	shadow_load_cr3(&sh, &vm, c);
	CHECK(shadow_check_tree(&sh, &vm) >= 0);
}

/* A second address space at 0x5000 sharing long_ctx's PDPT, with nothing
 * else of its own. */
static void second_process(void)
{
	set64(0x5000, 0x2000 | P | RW | US | A);
}

TEST(kept_root_comes_back)
{
	struct guest_ctx c = long_ctx();
	u64 fills, a_root = sh.root;

	second_process();
	load(&c, 0x1000);
	a_root = sh.root;
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x6abcde, PF_ERR_W), SHADOW_FIXED);
	load(&c, 0x5000);
	CHECK(sh.root != a_root);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0); /* B starts empty */
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	fills = sh.stats.fills;
	load(&c, 0x1000);
	CHECK_EQ(sh.root, a_root);
	CHECK_EQ(sh.stats.root_hits, 1);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000) & ADDR, hpa(0x10000));
	CHECK_EQ(shadow_leaf_of(&sh, 0x6abcde) & ADDR, hpa(0x2ab000));
	CHECK(shadow_leaf_of(&sh, 0x6abcde) & RW);
	CHECK_EQ(sh.stats.stale, 0);
	CHECK_EQ(sh.stats.fills, fills); /* nothing rebuilt */
	/* And B's is kept too. */
	load(&c, 0x5000);
	CHECK_EQ(sh.stats.root_hits, 2);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000) & ADDR, hpa(0x10000));
}

/* What the guest changed while its CR3 was not loaded is gone when it
 * comes back, whatever the level; what it did not change stays. */
TEST(kept_root_drops_what_changed)
{
	struct guest_ctx c = long_ctx();

	second_process();
	set64(0x4000 + 48, 0x16000 | P | RW | US); /* 0x406000: left alone */
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x401000, 0), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x406000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x6abcde, PF_ERR_W), SHADOW_FIXED);
	load(&c, 0x5000);
	set64(0x4000, 0x20000 | P | RW | US);       /* another page */
	set64(0x4000 + 8, get64(0x4000 + 8) & ~A);  /* A cleared: must be set again */
	set64(0x3000 + 3 * 8, 0x600000 | P | RW | US | PS); /* another 2 MiB page */
	load(&c, 0x1000);
	CHECK_EQ(sh.stats.root_hits, 1);
	CHECK_EQ(sh.stats.stale, 3);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x401000), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x6abcde), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x406000) & ADDR, hpa(0x16000));
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000) & ADDR, hpa(0x20000));
	CHECK_EQ(fault(&c, 0x401000, 0), SHADOW_FIXED);
	CHECK(get64(0x4000 + 8) & A);
	CHECK_EQ(fault(&c, 0x6abcde, 0), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x6abcde) & ADDR, hpa(0x6ab000));
	/* A PML4E that changed takes everything below it. */
	load(&c, 0x5000);
	set64(0x1000, 0x7000 | P | RW | US); /* an empty PDPT */
	load(&c, 0x1000);
	CHECK_EQ(shadow_check_tree(&sh, &vm), 0);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_GUEST_FAULT);
}

/* Reloading the CR3 it has is the guest's full TLB flush: checked too. */
TEST(reload_of_the_same_cr3_checks)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x402000, PF_ERR_U), SHADOW_FIXED);
	set64(0x4000, 0);
	load(&c, 0x1000);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	CHECK(shadow_leaf_of(&sh, 0x402000));
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_GUEST_FAULT);
}

/* A fill under an entry whose guest entry changed (no INVLPG, no CR3
 * load yet) builds a new table instead of adding to the old one. */
TEST(fill_under_changed_entry_replaces_table)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	set64(0x3000 + 2 * 8, 0x6000 | P | RW | US); /* PD[2] -> a new PT */
	set64(0x6000 + 8, 0x21000 | P | RW | US);
	CHECK_EQ(fault(&c, 0x401000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(shadow_leaf_of(&sh, 0x401000) & ADDR, hpa(0x21000));
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0); /* the old PT's leaf went with it */
	CHECK_EQ(sh.stats.stale, 1);
	/* A CR3 reload checks the new table against the guest's at 0x6000: kept. */
	load(&c, 0x1000);
	CHECK(shadow_leaf_of(&sh, 0x401000));
}

TEST(pae_kept_root)
{
	struct guest_ctx c = { 0 };

	reset();
	set64(0x1020 + 8, 0x2000 | P);
	set64(0x2000, 0x3000 | P | RW | US);
	set64(0x3000 + 5 * 8, 0x15000 | P | RW | US);
	set64(0x3000 + 6 * 8, 0x16000 | P | RW | US);
	set64(0x5020 + 8, 0x2000 | P); /* B: the same PD */
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.cr3 = 0x1020;
	CHECK_EQ(fault(&c, 0x40005000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x40006000, PF_ERR_U), SHADOW_FIXED);
	load(&c, 0x5020);
	set64(0x3000 + 5 * 8, 0x17000 | P | RW | US);
	load(&c, 0x1020);
	CHECK_EQ(sh.stats.root_hits, 1);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40005000), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40006000) & ADDR, hpa(0x16000));
	/* A PDPTE that changed (the CPU reads them at the CR3 load). */
	load(&c, 0x5020);
	set64(0x1020 + 8, 0x4000 | P);
	load(&c, 0x1020);
	CHECK_EQ(shadow_leaf_of(&sh, 0x40006000), 0);
	CHECK_EQ(shadow_check_tree(&sh, &vm), 0);
}

TEST(paging_32bit_kept_root)
{
	struct guest_ctx c = { 0 };

	reset();
	/* As paging_32bit: PD[1] -> PT 0x2000, PD[2] a 4 MiB page; B at
	 * 0x6000 with the same PDEs. */
	set32(0x1000 + 4, 0x2000 | P | RW | US | A);
	set32(0x1000 + 8, 0x400000 | P | RW | PS | A | D);
	set32(0x2000 + 12, 0x33000 | P | US | A);
	set32(0x2000 + 600 * 4, 0x34000 | P | US | A); /* the PT's second half */
	set32(0x6000 + 4, 0x2000 | P | RW | US | A);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PSE;
	c.cr3 = 0x1000;
	CHECK_EQ(fault(&c, 0x403abc, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x400000 + 600 * 4096, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x800000, 0), SHADOW_FIXED);  /* the 4 MiB page's first half */
	CHECK_EQ(fault(&c, 0xa00000, 0), SHADOW_FIXED);  /* ... and its second */
	load(&c, 0x6000);
	set32(0x2000 + 600 * 4, 0x35000 | P | US | A);
	load(&c, 0x1000);
	CHECK_EQ(sh.stats.root_hits, 1);
	CHECK_EQ(shadow_leaf_of(&sh, 0x403abc) & ADDR, hpa(0x33000));
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000 + 600 * 4096), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0x800000) & ADDR, hpa(0x400000));
	CHECK_EQ(shadow_leaf_of(&sh, 0xa00000) & ADDR, hpa(0x600000));
	/* The 4 MiB PDE changed: both shadow PDEs under it go. */
	load(&c, 0x6000);
	set32(0x1000 + 8, 0x400000 | P | PS | A | D);
	load(&c, 0x1000);
	CHECK_EQ(shadow_leaf_of(&sh, 0x800000), 0);
	CHECK_EQ(shadow_leaf_of(&sh, 0xa00000), 0);
	CHECK(shadow_leaf_of(&sh, 0x403abc));
	CHECK_EQ(sh.stats.stale, 3);
}

/* SHADOW_ROOTS of them, the least recently used one is reused; a flush
 * (a paging-mode change) drops them all. */
TEST(roots_reused_oldest_first)
{
	struct guest_ctx c = long_ctx();

	for (unsigned i = 0; i <= SHADOW_ROOTS; i++) {
		set64(0x10000 + i * 0x1000, 0x2000 | P | RW | US);
		load(&c, 0x10000 + i * 0x1000);
		CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	}
	CHECK_EQ(sh.stats.root_misses, SHADOW_ROOTS + 1);
	load(&c, 0x10000 + SHADOW_ROOTS * 0x1000); /* kept */
	load(&c, 0x11000);                         /* kept */
	CHECK_EQ(sh.stats.root_hits, 2);
	load(&c, 0x10000);                         /* the oldest: reused */
	CHECK_EQ(sh.stats.root_misses, SHADOW_ROOTS + 2);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	shadow_flush(&sh);
	load(&c, 0x11000);
	CHECK_EQ(sh.stats.root_misses, SHADOW_ROOTS + 3);
}

/* A page table the guest moved outside its RAM since: the entry goes,
 * and the next walk reports it. */
TEST(kept_root_table_now_outside_ram)
{
	struct guest_ctx c = long_ctx();

	second_process();
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	load(&c, 0x5000);
	set64(0x3000 + 2 * 8, 0x10000000 | P | RW | US | A);
	load(&c, 0x1000);
	CHECK_EQ(shadow_leaf_of(&sh, 0x400000), 0);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_BAD_TABLE);
}

/* TLB tags (arch/x86/mmu/shadow_tlb.c): an entry on CPU cpu, tags below
 * limit; the tag in *tag. */
static struct shadow_tlb_work work;

static enum shadow_tlb_flush enter(struct tlb_tag_pool *pool, int cpu, u32 limit, u32 *tag)
{
	shadow_tlb_tag(&sh, pool, cpu, limit, &work);
	*tag = work.tag;
	return work.flush;
}

/* Each root has a tag; it is flushed before an entry only if the root
 * lost or narrowed an entry since it last ran under it. */
TEST(root_tags_flushed_only_when_stale)
{
	struct guest_ctx c = long_ctx();
	struct tlb_tag_pool pool = { 0 };
	u32 ta, tb, t;

	second_process();
	load(&c, 0x1000);
	CHECK_EQ(enter(&pool, 0, 16, &ta), SHADOW_TLB_ALL); /* the CPU's first generation */
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(fault(&c, 0x401000, 0), SHADOW_FIXED);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE); /* fills: nothing cached there */
	CHECK_EQ(t, ta);
	load(&c, 0x5000); /* B starts in another root: a fresh tag */
	CHECK_EQ(enter(&pool, 0, 16, &tb), SHADOW_TLB_NONE);
	CHECK(tb != ta && tb != 0);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	load(&c, 0x1000); /* nothing changed: A's translations stay */
	CHECK_EQ(sh.stats.tlb_kept, 1);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	CHECK_EQ(t, ta);
	CHECK_EQ(sh.stats.tlb_flushes, 0);
	/* B changes a PTE both share, without INVLPG: when A comes back
	 * its check drops the leaf, and A's tag is flushed. */
	load(&c, 0x5000);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	set64(0x4000 + 8, 0x21000 | P | RW | US);
	load(&c, 0x1000);
	CHECK_EQ(sh.stats.tlb_kept, 2); /* B's load kept, A's not */
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_TAG);
	CHECK_EQ(t, ta);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE); /* flushed once */
	/* INVLPG of a 4 KiB guest page drops its leaf: that page goes
	 * from the tag, not the rest. */
	shadow_invlpg(&sh, 0x400000);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_PAGES);
	CHECK_EQ(work.pages, 1);
	CHECK_EQ(work.page[0], 0x400000);
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U), SHADOW_FIXED);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	/* A leaf widened (D set on a write) may sit narrower in the TLB. */
	CHECK_EQ(fault(&c, 0x400000, PF_ERR_U | PF_ERR_W | PF_ERR_P), SHADOW_FIXED);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_PAGES);
	CHECK_EQ(work.page[0], 0x400000);
	/* INVLPG in a 2 MiB guest page drops the region: the whole tag. */
	CHECK_EQ(fault(&c, 0x6abcde, 0), SHADOW_FIXED);
	shadow_invlpg(&sh, 0x612345);
	CHECK_EQ(shadow_leaf_of(&sh, 0x6abcde), 0);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_TAG);
	/* More pages than a root lists: the whole tag. */
	for (unsigned i = 0; i <= SHADOW_TLB_MAX_PAGES; i++) {
		set64(0x4000 + 8 * (16 + i), (0x30000 + i * 0x1000) | P | RW | US | A | D);
		CHECK_EQ(fault(&c, 0x410000 + i * 0x1000, PF_ERR_U), SHADOW_FIXED);
	}
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	for (unsigned i = 0; i < SHADOW_TLB_MAX_PAGES; i++)
		shadow_invlpg(&sh, 0x410000 + i * 0x1000);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_PAGES);
	CHECK_EQ(work.pages, SHADOW_TLB_MAX_PAGES);
	CHECK_EQ(work.page[SHADOW_TLB_MAX_PAGES - 1], 0x410000 + (SHADOW_TLB_MAX_PAGES - 1) * 0x1000);
	for (unsigned i = 0; i <= SHADOW_TLB_MAX_PAGES; i++)
		CHECK_EQ(fault(&c, 0x410000 + i * 0x1000, PF_ERR_U), SHADOW_FIXED);
	for (unsigned i = 0; i <= SHADOW_TLB_MAX_PAGES; i++)
		shadow_invlpg(&sh, 0x410000 + i * 0x1000);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_TAG);
	CHECK_EQ(sh.stats.tlb_pages, 2 + SHADOW_TLB_MAX_PAGES);
	/* A flush: every root's tag, each at its next entry. B comes back
	 * in a root not used lately, whose tag is fresh. */
	shadow_flush(&sh);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_TAG);
	CHECK(sh.roots[1].tlb_stale);
	load(&c, 0x5000);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	CHECK_EQ(t, 3);
	CHECK_EQ(sh.stats.tlb_flushes, 4);
	/* An INVLPG of a non-canonical address reaches the canonical leaf
	 * of the same bits 47:0; that one goes from the tag. */
	set64(0x5000 + 511 * 8, 0x2000 | P | RW | US | A);
	CHECK_EQ(fault(&c, 0xffffff8000400000ULL, 0), SHADOW_FIXED);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_NONE);
	shadow_invlpg(&sh, 0x0000ff8000400000ULL);
	CHECK_EQ(shadow_leaf_of(&sh, 0xffffff8000400000ULL), 0);
	CHECK_EQ(enter(&pool, 0, 16, &t), SHADOW_TLB_PAGES);
	CHECK_EQ(work.page[0], 0xffffff8000400000ULL);
	/* On another CPU a root gets a fresh tag there: nothing to flush. */
	set64(0x4000 + 8, 0x22000 | P | RW | US);
	load(&c, 0x1000);
	{
		struct tlb_tag_pool other = { 0 };

		CHECK_EQ(enter(&other, 1, 16, &t), SHADOW_TLB_ALL); /* its first generation */
		CHECK_EQ(t, 1);
		CHECK_EQ(sh.roots[sh.cur].tag.cpu, 1);
	}
}

/* A CPU out of tags starts a new generation: every tag is flushed once,
 * and the roots holding older ones take new ones. */
TEST(root_tags_new_generation)
{
	struct guest_ctx c = long_ctx();
	struct tlb_tag_pool pool = { 0 };
	u32 ta, tb, t;

	second_process();
	load(&c, 0x1000);
	CHECK_EQ(enter(&pool, 0, 3, &ta), SHADOW_TLB_ALL); /* tags 1 and 2 */
	load(&c, 0x5000);
	CHECK_EQ(enter(&pool, 0, 3, &tb), SHADOW_TLB_NONE);
	CHECK_EQ(ta, 1);
	CHECK_EQ(tb, 2);
	set64(0x6000, 0x2000 | P | RW | US);
	load(&c, 0x6000); /* a third root: none left, generation 2 */
	CHECK_EQ(enter(&pool, 0, 3, &t), SHADOW_TLB_ALL);
	CHECK_EQ(t, 1);
	load(&c, 0x1000); /* its tag is of generation 1: a fresh one */
	CHECK_EQ(enter(&pool, 0, 3, &t), SHADOW_TLB_NONE);
	CHECK_EQ(t, 2);
	load(&c, 0x5000);
	CHECK_EQ(enter(&pool, 0, 3, &t), SHADOW_TLB_ALL);
	CHECK_EQ(pool.gen, 3);
}

int main(void)
{
	RUN(long_mode_read_then_write);
	RUN(long_mode_rights);
	RUN(wp_clear_supervisor_write);
	RUN(large_pages_and_mmio);
	RUN(leaf_into_the_hole_is_mmio);
	RUN(one_gib_page_makes_invlpg_flush);
	RUN(table_outside_ram);
	RUN(dirty_log_keeps_page_read_only);
	RUN(invlpg_and_flush);
	RUN(pool_runs_out);
	RUN(pae_paging);
	RUN(paging_32bit);
	RUN(paging_off);
	RUN(host_page_mapped);
	RUN(entry_changed_under_walk_is_not_touched);
	RUN(kept_root_comes_back);
	RUN(kept_root_drops_what_changed);
	RUN(reload_of_the_same_cr3_checks);
	RUN(fill_under_changed_entry_replaces_table);
	RUN(pae_kept_root);
	RUN(paging_32bit_kept_root);
	RUN(roots_reused_oldest_first);
	RUN(kept_root_table_now_outside_ram);
	RUN(root_tags_flushed_only_when_stale);
	RUN(root_tags_new_generation);
	shadow_destroy(&sh);
	return unit_done();
}
