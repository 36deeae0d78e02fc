/*
 * paging: the guest's MMU behaves as the hardware's (SDM vol. 3, 4.6 to
 * 4.10; APM vol. 2, 5.4 to 5.6), under nested and under shadow paging
 * (docs/shadow-paging.md). Long mode, one vCPU. A page table of its own
 * replaces the 2 MiB identity page at 256 MiB (VA, past its RAM) and maps
 * pages of its own memory there:
 *   - accessed set by a read, dirty not; dirty set by a write
 *   - a not-present page: #PF, error code 0, CR2 the address
 *   - a read-only page: a write faults with WP set (P|W), goes through with
 *     WP clear (and sets dirty)
 *   - NX with EFER.NXE: a read goes through (a fetch: not tested yet)
 *   - INVLPG after changing a PTE: the new page is seen
 *   - two address spaces (a second CR3 whose PT at VA is its own): a PTE
 *     or a PDE changed while its CR3 was not loaded is seen after the
 *     switch back, an unchanged one still works (shadow paging keeps a
 *     root per CR3 and must check it when it takes it back)
 *   - a #PF on the way into an exception (SDM vol. 3, 6.15, table 6-5): a
 *     UD2 with RSP in a not-present page; the #UD cannot be pushed, the
 *     #PF that follows cannot either, so the CPU delivers #DF (error code
 *     0) through the stack of IST 1. Under shadow paging the hypervisor
 *     makes these #PFs itself and must combine them as the CPU does.
 */
#include "guest.h"

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define A (1ULL << 5)
#define D (1ULL << 6)
#define NX (1ULL << 63)
#define ADDR 0x000ffffffffff000ULL
#define VA 0x10000000UL
#define MSR_EFER 0xc0000080
#define EFER_NXE (1ULL << 11)
#define CR0_WP (1ULL << 16)

static u64 pt[512] __attribute__((aligned(4096)));
/* The second address space: copies of the tables down to its own PT. */
static u64 pml4b[512] __attribute__((aligned(4096)));
static u64 pdptb[512] __attribute__((aligned(4096)));
static u64 pdb[512] __attribute__((aligned(4096)));
static u64 ptb[512] __attribute__((aligned(4096)));
static u8 pages[4][4096] __attribute__((aligned(4096)));

static u64 read_cr(int n)
{
	u64 v = 0;

	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 2)
		__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr0(u64 v)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

static void invlpg(ulong va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* Reads or writes a byte at va; -1, or the vector with *err. */
static int peek(ulong va, u8 *val, ulong *err)
{
	ulong vector = (ulong)-1, error = 0;
	u8 v = 0;

	__asm__ volatile("1: movb (%3), %0\n2:\n\t" EXTABLE(1b, 2b)
			 : "+q"(v), "+S"(vector), "+D"(error) : "r"(va) : "memory");
	*val = v;
	*err = error;
	return (int)vector;
}

static int poke(ulong va, u8 val, ulong *err)
{
	ulong vector = (ulong)-1, error = 0;

	__asm__ volatile("1: movb %2, (%3)\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"(error) : "q"(val), "r"(va) : "memory");
	*err = error;
	return (int)vector;
}

/* #DF through IST 1: count it, take the error code, and go back to
 * df_back on the stack fault_on_bad_stack saved. */
static volatile u64 df_seen, df_error, df_saved_rsp;
static u8 df_stack[4096] __attribute__((aligned(16)));
__asm__(".text\n\t.align 16\n"
	"df_stub:\n\t"
	"pop %rax\n\t"
	"mov %rax, df_error(%rip)\n\t"
	"lock incq df_seen(%rip)\n\t"
	"mov df_saved_rsp(%rip), %rsp\n\t"
	"jmp df_back\n");
extern char df_stub[];

/* UD2 with RSP at bad_rsp; back here from df_stub, flags as they were. */
static __attribute__((noinline)) void fault_on_bad_stack(ulong bad_rsp)
{
	__asm__ volatile("pushf\n\t"
			 "mov %%rsp, df_saved_rsp(%%rip)\n\t"
			 "mov %0, %%rsp\n\t"
			 "ud2\n"
			 "df_back:\n\t"
			 "popf\n\t"
			 : : "r"(bad_rsp) : "rax", "memory", "cc");
}

static void write_cr3(u64 v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static void map(unsigned i, u64 flags)
{
	pt[i] = ((u64)(ulong)pages[i] & ADDR) | flags;
	invlpg(VA + i * 4096);
}

int main(ulong arg)
{
	u64 *pml4 = (u64 *)(read_cr(3) & ADDR), *pdpt, *pd;
	ulong err;
	u64 efer;
	u8 v = 0;

	pdpt = (u64 *)(pml4[0] & ADDR);
	pd = (u64 *)(pdpt[0] & ADDR);
	pd[VA >> 21] = ((u64)(ulong)pt & ADDR) | P | RW;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	for (unsigned i = 0; i < 4; i++)
		memset(pages[i], 0x10 + i, 4096);

	/* Accessed and dirty. */
	map(0, P | RW);
	check(peek(VA, &v, &err) < 0 && v == 0x10, "read_maps", "v %x", v);
	check((pt[0] & (A | D)) == A, "read_sets_accessed_only", "pte %lx", (ulong)pt[0]);
	check(poke(VA + 8, 0x77, &err) < 0 && pages[0][8] == 0x77, "write_goes_through", "v %x", v);
	check((pt[0] & (A | D)) == (A | D), "write_sets_dirty", "pte %lx", (ulong)pt[0]);

	/* Not present. */
	map(1, 0);
	check(peek(VA + 4096 + 5, &v, &err) == 14 && err == 0 && read_cr(2) == VA + 4096 + 5,
	      "not_present_pf", "err %lx cr2 %lx", err, (ulong)read_cr(2));
	check(pt[1] == ((u64)(ulong)pages[1] & ADDR), "not_present_untouched", "pte %lx",
	      (ulong)pt[1]);

	/* Read-only, WP set then clear. */
	map(1, P);
	check(peek(VA + 4096, &v, &err) < 0 && v == 0x11, "readonly_read", "v %x", v);
	check(poke(VA + 4096, 0x55, &err) == 14 && err == 3 && pages[1][0] == 0x11 &&
	      !(pt[1] & D), "readonly_write_wp_pf", "err %lx pte %lx", err, (ulong)pt[1]);
	write_cr0(read_cr(0) & ~CR0_WP);
	check(poke(VA + 4096, 0x55, &err) < 0 && pages[1][0] == 0x55 && (pt[1] & D),
	      "readonly_write_wp_clear", "pte %lx", (ulong)pt[1]);
	write_cr0(read_cr(0) | CR0_WP);
	invlpg(VA + 4096);
	check(poke(VA + 4096, 0x66, &err) == 14 && pages[1][0] == 0x55, "wp_set_again", "err %lx",
	      err);

	/* NX with EFER.NXE: a read of an NX page goes through (the fetch test
	 * is not written yet). */
	if (rdmsr_safe(MSR_EFER, &efer) < 0 && wrmsr_safe(MSR_EFER, efer | EFER_NXE) < 0) {
		map(3, P | RW | NX);
		check(peek(VA + 3 * 4096, &v, &err) < 0 && v == 0x13, "nx_read_ok", "v %x", v);
	}

	/* INVLPG: the new translation is used after it. */
	map(2, P | RW);
	check(peek(VA + 2 * 4096, &v, &err) < 0 && v == 0x12, "invlpg_before", "v %x", v);
	pt[2] = ((u64)(ulong)pages[0] & ADDR) | P | RW;
	invlpg(VA + 2 * 4096);
	check(peek(VA + 2 * 4096, &v, &err) < 0 && v == 0x10, "invlpg_after", "v %x", v);
	/* And a CR3 reload drops everything too. */
	pt[2] = ((u64)(ulong)pages[1] & ADDR) | P | RW;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	check(peek(VA + 2 * 4096, &v, &err) < 0 && v == 0x55, "cr3_reload", "v %x", v);

	/* Two address spaces: B maps pages[3] at VA through its own PT. */
	u64 cr3a = read_cr(3), cr3b = (u64)(ulong)pml4b;

	memcpy(pml4b, pml4, 4096);
	memcpy(pdptb, pdpt, 4096);
	memcpy(pdb, pd, 4096);
	pml4b[0] = ((u64)(ulong)pdptb & ADDR) | (pml4[0] & ~ADDR);
	pdptb[0] = ((u64)(ulong)pdb & ADDR) | (pdpt[0] & ~ADDR);
	pdb[VA >> 21] = ((u64)(ulong)ptb & ADDR) | P | RW;
	ptb[0] = ((u64)(ulong)pages[3] & ADDR) | P | RW;
	check(peek(VA + 2 * 4096, &v, &err) < 0 && v == 0x55, "two_spaces_a", "v %x", v);
	write_cr3(cr3b);
	check(peek(VA, &v, &err) < 0 && v == 0x13, "two_spaces_b", "v %x", v);
	pt[2] = ((u64)(ulong)pages[2] & ADDR) | P | RW; /* A's, while B is loaded */
	write_cr3(cr3a);
	check(peek(VA + 2 * 4096, &v, &err) < 0 && v == 0x12, "pte_changed_while_away", "v %x", v);
	check(peek(VA, &v, &err) < 0 && v == 0x10, "pte_unchanged_while_away", "v %x", v);
	write_cr3(cr3b);
	check(peek(VA, &v, &err) < 0 && v == 0x13, "b_again", "v %x", v);
	pd[VA >> 21] = ((u64)(ulong)ptb & ADDR) | P | RW; /* A's PDE now points at B's PT */
	write_cr3(cr3a);
	check(peek(VA, &v, &err) < 0 && v == 0x13, "pde_changed_while_away", "v %x", v);
	ptb[0] = 0; /* and B's PTE (now A's too) goes while A runs: a reload sees it */
	write_cr3(cr3a);
	check(peek(VA, &v, &err) == 14 && err == 0, "reload_sees_pte_gone", "err %lx", err);

	/* A #PF on the way into #UD, then into that #PF: #DF. */
	ring3_setup(); /* a TSS, for IST 1 */
	ring3_set_ist(1, df_stack + sizeof(df_stack));
	idt_set_gate(8, df_stub, 0x8e, 1);
	check(pt[100] == 0, "df_stack_page_absent", "pte %lx", (ulong)pt[100]);
	fault_on_bad_stack(VA + 100 * 4096 + 2048);
	check(df_seen == 1 && df_error == 0, "pf_delivering_exception_is_df",
	      "#DF %lu times, error %lx", (ulong)df_seen, (ulong)df_error);
	return (int)failures;
}
