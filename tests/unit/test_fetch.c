/* Host tests of instruction fetch (arch/x86/emul/fetch.c) over a fake guest RAM. */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/fetch.h"
#include "hv/vm.h"
#include "fake_gmem.h"

#define RAM_SIZE (8ULL << 20)

static struct vm vm;
static u8 *ram;

#define P BIT(0)
#define RW BIT(1)
#define US BIT(2)

static void set64(u64 gpa, u64 v)
{
	memcpy(ram + gpa, &v, 8);
}

static void put(u64 gpa, const u8 *b, size_t n)
{
	memcpy(ram + gpa, b, n);
}
#define PUT(gpa, ...) put(gpa, (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }))

/*
 * Long mode, 4-level paging. Linear -> guest-physical:
 *   0x400000 -> 0x10000    0x401000 -> 0x30000 (not contiguous with it)
 *   0x402000 not present   0x403000 -> 0x7fff0000 (outside RAM)
 *   0x404000 -> 0x14000 (supervisor)
 *   0x405000 -> 0x15000    0x406000 -> 0x7ffe0000 (outside RAM)
 */
static struct guest_ctx setup_long(void)
{
	static const u64 pte[] = { 0x10000 | P | RW | US, 0x30000 | P | RW | US, 0,
				   0x7fff0000 | P | RW | US, 0x14000 | P | RW,
				   0x15000 | P | RW | US, 0x7ffe0000 | P | RW | US };
	struct guest_ctx c = { 0 };

	if (!ram)
		ram = aligned_alloc(PAGE_SIZE, RAM_SIZE);
	memset(ram, 0xcc, RAM_SIZE);
	memset(ram, 0, 0x10000); /* page tables */
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram, RAM_SIZE);
	set64(0x1000, 0x2000 | P | RW | US);
	set64(0x2000, 0x3000 | P | RW | US);
	set64(0x3000 + 2 * 8, 0x4000 | P | RW | US);
	for (unsigned i = 0; i < ARRAY_SIZE(pte); i++)
		set64(0x4000 + i * 8, pte[i]);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.efer = EFER_LME | EFER_LMA | EFER_NXE;
	c.cr3 = 0x1000;
	c.cs.attr = SEG_ATTR_L | SEG_ATTR_P | SEG_ATTR_S;
	c.cs.base = 0x12345000; /* ignored in 64-bit mode */
	return c;
}

static struct insn in;
static u32 pf;

TEST(same_page)
{
	struct guest_ctx c = setup_long();

	PUT(0x10100, 0x0f, 0xa2);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x400100, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.kind, INSN_CPUID);
	CHECK_EQ(in.len, 2);
	/* The last 15 bytes of a page: still one page. */
	PUT(0x10ff1, 0x48, 0x89, 0x08);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x400ff1, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK_EQ(in.len, 3);
}

TEST(across_a_page_boundary)
{
	struct guest_ctx c = setup_long();
	u8 buf[INSN_MAX_LEN];
	size_t got;

	/* mov dword [rax], 0x12345678: 4 bytes on one page, 3 on the next. */
	PUT(0x10ffc, 0x48, 0xc7, 0x00, 0x78);
	PUT(0x30000, 0x56, 0x34, 0x12);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x400ffc, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK_EQ(in.len, 7);
	CHECK_EQ(in.imm, 0x12345678);
	CHECK_EQ(insn_fetch(&vm, &c, 0x400ffc, buf, &got), 0);
	CHECK_EQ(got, 15);
	CHECK_EQ(buf[3], 0x78);
	CHECK_EQ(buf[4], 0x56);
	CHECK_EQ(buf[6], 0x12);
}

TEST(next_page_unmapped)
{
	struct guest_ctx c = setup_long();
	u8 buf[INSN_MAX_LEN];
	size_t got;

	/* CPUID in the last two bytes before a page that is not present: fine. */
	PUT(0x30ffe, 0x0f, 0xa2);
	CHECK_EQ(insn_fetch(&vm, &c, 0x401ffe, buf, &got), 0);
	CHECK_EQ(got, 2);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x401ffe, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.kind, INSN_CPUID);
	CHECK_EQ(in.len, 2);
	/* An instruction that runs into it: #PF on the next page. */
	PUT(0x30ffd, 0xc7, 0x00, 0x01);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x401ffd, RFLAGS_FIXED, &in, &pf), -EFAULT);
	CHECK_EQ(pf, PF_ERR_ID);
	CHECK_EQ(in.len, 3);
	CHECK_EQ(insn_linear_rip(&c, 0x401ffd) + in.len, 0x402000); /* CR2 */
	/* The next page translates outside RAM: the VM is to be stopped. */
	PUT(0x15ffe, 0x0f, 0x01);
	CHECK_EQ(insn_fetch(&vm, &c, 0x405ffe, buf, &got), 0);
	CHECK_EQ(got, 2);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x405ffe, RFLAGS_FIXED, &in, &pf), -ENOENT);
	/* The top of the lower canonical half: the next page is non-canonical (#GP). */
	set64(0x1000 + 255 * 8, 0x5000 | P | RW | US);
	set64(0x5000 + 511 * 8, 0x6000 | P | RW | US);
	set64(0x6000 + 511 * 8, 0x7000 | P | RW | US);
	set64(0x7000 + 511 * 8, 0x31000 | P | RW | US);
	PUT(0x31ffe, 0x0f, 0xa2);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x7ffffffffffeULL, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.kind, INSN_CPUID);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x7fffffffffffULL, RFLAGS_FIXED, &in, &pf), -EINVAL);
}

TEST(first_page_faults)
{
	struct guest_ctx c = setup_long();
	u8 buf[INSN_MAX_LEN];
	size_t got = 99;

	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x402010, RFLAGS_FIXED, &in, &pf), -EFAULT);
	CHECK_EQ(pf, PF_ERR_ID);
	CHECK_EQ(in.len, 0);
	CHECK_EQ(insn_fetch(&vm, &c, 0x402010, buf, &got), -EFAULT);
	CHECK_EQ(got, 0);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x402ffe, RFLAGS_FIXED, &in, &pf), -EFAULT);
	CHECK_EQ(in.len, 0);
	/* Code outside RAM. */
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x403000, RFLAGS_FIXED, &in, &pf), -ENOENT);
	CHECK_EQ(insn_fetch(&vm, &c, 0x403ff8, buf, &got), -ENOENT);
	/* User mode may not run supervisor code. */
	PUT(0x14000, 0x0f, 0xa2);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x404000, RFLAGS_FIXED, &in, &pf), 0);
	c.cpl = 3;
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x404000, RFLAGS_FIXED, &in, &pf), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	/* Non-canonical RIP. */
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x800000000000ULL, RFLAGS_FIXED, &in, &pf), -EINVAL);
}

TEST(segments_and_modes)
{
	struct guest_ctx c = setup_long();

	/* Real mode: CS.base as held (here the reset value), no paging. */
	memset(&c, 0, sizeof(c));
	c.cs.base = 0xf0000;
	PUT(0xffff0, 0xea, 0x5b, 0xe0, 0x00, 0xf0);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0xfff0, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 5);
	CHECK_EQ(in.imm, 0xf000e05b);
	/* Real-mode code crossing a page: contiguous without paging. */
	PUT(0x12ffe, 0x66, 0xb8, 1, 2, 3, 4);
	c.cs.base = 0x12000;
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0xffe, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 6);
	CHECK_EQ(in.imm, 0x04030201);

	/* 32-bit protected mode, paging off: base + EIP, wrapping at 4 GiB. */
	c.cr0 = CR0_PE;
	c.cs.attr = SEG_ATTR_DB;
	c.cs.base = 0x20000;
	PUT(0x20100, 0x48, 0x89, 0x08); /* dec eax; mov [eax], ecx */
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x100, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 1);
	c.cs.base = 0xffff0000;
	CHECK_EQ(insn_linear_rip(&c, 0x30100), 0x20100);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x30100, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 1);
	/* 16-bit protected mode. */
	c.cs.attr = 0;
	c.cs.base = 0x20000;
	PUT(0x20200, 0x89, 0x87, 0x34, 0x12);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x200, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 4);
	/* Virtual-8086 mode decodes as real mode. */
	c.cs.attr = SEG_ATTR_DB;
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x200, RFLAGS_FIXED | RFLAGS_VM, &in, &pf), 0);
	CHECK_EQ(in.len, 4);

	/* Long mode: 64-bit code ignores CS.base; compatibility mode uses it. */
	c = setup_long();
	PUT(0x10100, 0x48, 0x89, 0x08);
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x400100, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 3);
	CHECK_EQ(in.op_size, 8);
	c.cs.attr = SEG_ATTR_DB;
	c.cs.base = 0x300000;
	CHECK_EQ(insn_fetch_decode(&vm, &c, 0x100100, RFLAGS_FIXED, &in, &pf), 0);
	CHECK_EQ(in.len, 1); /* dec eax */
}

static struct insn_fetch_cache cache;

static int fetch_cached(const struct guest_ctx *c, u64 rip)
{
	return insn_fetch_decode_cached(&vm, c, rip, RFLAGS_FIXED, &cache, &in, &pf);
}

TEST(cache_hits_and_stays_exact)
{
	struct guest_ctx c = setup_long();

	memset(&cache, 0, sizeof(cache));
	PUT(0x10100, 0x0f, 0xa2);
	PUT(0x10200, 0xf4);
	CHECK_EQ(fetch_cached(&c, 0x400100), 0);
	CHECK_EQ(in.kind, INSN_CPUID);
	CHECK(cache.hva != NULL);
	CHECK_EQ(cache.trace.n, 4);
	/* A hit does not walk: with the RAM gone a walk would fail. */
	vm.gmem.size = 0;
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	CHECK_EQ(in.kind, INSN_HLT);
	vm.gmem.size = RAM_SIZE;
	/* A changed PTE: a miss, and the new page. */
	PUT(0x30200, 0x0f, 0x32);
	set64(0x4000, 0x30000 | P | RW | US);
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	CHECK_EQ(in.kind, INSN_RDMSR);
	/* A changed upper level (here only its accessed bit): a miss, same result. */
	set64(0x1000, 0x2000 | P | RW | US | BIT(5));
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	CHECK_EQ(in.kind, INSN_RDMSR);
	CHECK_EQ(cache.trace.value[0], 0x2000 | P | RW | US | BIT(5));
	/* Another CPL: user code may not run there once the PTE is supervisor. */
	set64(0x4000, 0x30000 | P | RW);
	c.cpl = 3;
	CHECK_EQ(fetch_cached(&c, 0x400200), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	CHECK_EQ(in.len, 0);
	CHECK(cache.hva == NULL); /* faults are not kept */
	c.cpl = 0;
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	/* CR0.WP, CR4 and EFER are part of the key: SMEP now forbids a user page. */
	set64(0x4000, 0x30000 | P | RW | US);
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	c.cr4 |= CR4_SMEP;
	CHECK_EQ(fetch_cached(&c, 0x400200), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	c.cr4 &= ~CR4_SMEP;
	/* Another CR3 with other tables: a miss. */
	memcpy(ram + 0x8000, ram + 0x1000, PAGE_SIZE);
	set64(0x8000, 0x9000 | P | RW | US);
	memcpy(ram + 0x9000, ram + 0x2000, PAGE_SIZE);
	set64(0x9000, 0xa000 | P | RW | US);
	memcpy(ram + 0xa000, ram + 0x3000, PAGE_SIZE);
	set64(0xa000 + 2 * 8, 0xb000 | P | RW | US);
	memset(ram + 0xb000, 0, PAGE_SIZE);
	set64(0xb000, 0x10000 | P | RW | US);
	c.cr3 = 0x8000;
	CHECK_EQ(fetch_cached(&c, 0x400200), 0);
	CHECK_EQ(in.kind, INSN_HLT);
	CHECK_EQ(cache.cr3, 0x8000);
	/* Another page: a miss. */
	CHECK_EQ(fetch_cached(&c, 0x401000), -EFAULT); /* PTE 1 of the new table: none */
	CHECK_EQ(pf, PF_ERR_ID);
}

TEST(cache_large_pages_and_other_paths)
{
	struct guest_ctx c = setup_long();

	memset(&cache, 0, sizeof(cache));
	/* A 2 MiB page: three entries, the fourth slot unused. */
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | US | BIT(7));
	PUT(0x200123, 0x0f, 0x01, 0xd9);
	CHECK_EQ(fetch_cached(&c, 0x600123), 0);
	CHECK_EQ(in.kind, INSN_VMMCALL);
	CHECK_EQ(cache.trace.n, 3);
	vm.gmem.size = 0;
	CHECK_EQ(fetch_cached(&c, 0x600123), 0); /* a hit */
	vm.gmem.size = RAM_SIZE;
	set64(0x3000 + 3 * 8, 0x400000 | P | RW | US | BIT(7));
	PUT(0x400123, 0xf4);
	CHECK_EQ(fetch_cached(&c, 0x600123), 0);
	CHECK_EQ(in.kind, INSN_HLT);
	/* Across a page, and outside 64-bit mode: the uncached path. */
	PUT(0x10ffc, 0x48, 0xc7, 0x00, 0x78);
	PUT(0x30000, 0x56, 0x34, 0x12);
	CHECK_EQ(fetch_cached(&c, 0x400ffc), 0);
	CHECK_EQ(in.len, 7);
	c.cs.attr = SEG_ATTR_DB;
	c.cs.base = 0x300000;
	PUT(0x10100, 0x48, 0x89, 0x08);
	CHECK_EQ(fetch_cached(&c, 0x100100), 0);
	CHECK_EQ(in.len, 1); /* dec eax, in compatibility mode */
	/* Code outside RAM is not cached, and says so. */
	c = setup_long();
	CHECK_EQ(fetch_cached(&c, 0x403000), -ENOENT);
	CHECK(cache.hva == NULL);
}

int main(void)
{
	RUN(same_page);
	RUN(across_a_page_boundary);
	RUN(next_page_unmapped);
	RUN(first_page_faults);
	RUN(segments_and_modes);
	RUN(cache_hits_and_stays_exact);
	RUN(cache_large_pages_and_other_paths);
	free(ram);
	return unit_done();
}
